package io.jremus.replication.netbuf;

import io.jremus.sys.ErrnoException;
import io.jremus.vmm.net.Tap;
import java.lang.foreign.MemorySegment;

/**
 * Where released frames go: on a real host, the VM's TAP. The output buffer calls it only with
 * frames whose epoch the backup has acknowledged (or, in pass-through mode, at once).
 *
 * <p>Called on one thread at a time per buffer. Must not block for long: a full interface
 * queue is a dropped frame, as on a congested link.
 */
@FunctionalInterface
public interface FrameSink {
    /**
     * Sends one Ethernet frame (no virtio header). {@code frame} is a native segment valid only
     * during the call.
     *
     * @return whether the frame left (false: dropped by the sink, counted by the caller)
     */
    boolean send(MemorySegment frame);

    /** The TAP as a sink: {@link Tap#writeFrame} prepends the zero virtio-net header. */
    static FrameSink of(Tap tap) {
        return frame -> {
            try {
                return tap.writeFrame(frame) != Tap.WOULD_BLOCK;
            } catch (ErrnoException e) {
                return false; // link down (EIO) and the like: the frame is lost, like on a wire
            }
        };
    }
}
