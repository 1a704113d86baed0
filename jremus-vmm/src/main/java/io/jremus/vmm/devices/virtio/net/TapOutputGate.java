package io.jremus.vmm.devices.virtio.net;

import io.jremus.sys.ErrnoException;
import io.jremus.vmm.net.Tap;
import java.lang.foreign.MemorySegment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The unprotected output path: each frame goes to the TAP as soon as the guest sends it. A full
 * interface queue or a down link drops the frame (as a real NIC would), logged a few times.
 */
public final class TapOutputGate implements OutputGate {
    private static final Logger LOG = LoggerFactory.getLogger(TapOutputGate.class);
    private static final int MAX_LOGGED = 8;
    private final Tap tap;
    private int logged;

    public TapOutputGate(Tap tap) {
        this.tap = tap;
    }

    @Override
    public boolean submit(MemorySegment frame) {
        try {
            return tap.writeFrame(frame) != Tap.WOULD_BLOCK;
        } catch (ErrnoException e) {
            if (logged < MAX_LOGGED) {
                logged++;
                LOG.warn("{}: frame of {} bytes dropped: {}", tap.name(), frame.byteSize(), e.getMessage());
            }
            return false;
        }
    }
}
