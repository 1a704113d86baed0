package io.jremus.vmm.devices.virtio.net;

import java.lang.foreign.MemorySegment;

/**
 * Where the frames a guest transmits go. The default ({@link TapOutputGate}) writes each to
 * the TAP at once; the Remus layer substitutes one that holds the frames of epoch N until the
 * backup has acknowledged checkpoint N (architecture invariant 1, output commit), then releases
 * them with {@link io.jremus.vmm.net.Tap#writeFrame}.
 *
 * <p>Called on the thread serving the TX queue (a vCPU thread, under the transport's lock), one
 * frame at a time; must not block for long.
 */
@FunctionalInterface
public interface OutputGate {
    /**
     * Takes one Ethernet frame (no virtio header), between 14 and {@link VirtioNet#MAX_FRAME}
     * bytes, in a native buffer that is reused once this returns: copy what you keep.
     *
     * @return whether the frame was accepted (false: dropped, counted as a TX drop)
     */
    boolean submit(MemorySegment frame);
}
