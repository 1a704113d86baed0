package io.jremus.vmm.devices.bus;

import io.jremus.vmm.devices.PioDevice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The x86 port-I/O space (0x0000-0xFFFF): routes a vCPU's {@code in}/{@code out} exits to the
 * device registered for the port.
 *
 * <p>Devices receive the port as an <em>offset from the base they were registered at</em>, so
 * one implementation serves any base (COM1 or COM2) and a device spanning two ports (i8042 at
 * 0x60 and 0x64) registers one range and tells them apart by offset.
 *
 * <p>A port no device claims reads as all ones (what a floating ISA bus returns, and what Linux
 * probes for "no device") and swallows writes. A device that throws is treated the same way and
 * logged: a bug in one device model must not take down the vCPU loop.
 *
 * <p>Register every device before the vCPUs start; dispatch is lock-free and may run on many
 * vCPU threads at once (each device synchronises its own state).
 */
public final class PioBus {
    private static final Logger LOG = LoggerFactory.getLogger(PioBus.class);
    private static final int PORT_SPACE = 0x10000;

    private final RangeMap<PioDevice> devices = new RangeMap<>();
    private final UnclaimedAccessLog unclaimed = new UnclaimedAccessLog(LOG, "port");

    /** Claims ports {@code [base, base+length)} for {@code device}; throws on overlap or out of range. */
    public PioBus register(int base, int length, PioDevice device) {
        if (base < 0 || length <= 0 || base + length > PORT_SPACE) {
            throw new IllegalArgumentException("port range 0x" + Integer.toHexString(base) + "+" + length
                    + " is outside the 16-bit port space");
        }
        devices.add(base, length, device, "port");
        return this;
    }

    /** An {@code in} of {@code size} bytes; the result has only the low {@code size} bytes set. */
    public long read(int port, int size) {
        RangeMap.Range<PioDevice> r = devices.find(port, size);
        if (r == null) {
            unclaimed.record("read", port, size);
            return allOnes(size);
        }
        try {
            return r.value().read((int) (port - r.base()), size) & allOnes(size);
        } catch (RuntimeException e) {
            LOG.error("device {} failed on in 0x{} (size {})", r.value(), Integer.toHexString(port), size, e);
            return allOnes(size);
        }
    }

    /** An {@code out} of {@code size} bytes. */
    public void write(int port, int size, long value) {
        RangeMap.Range<PioDevice> r = devices.find(port, size);
        if (r == null) {
            unclaimed.record("write", port, size);
            return;
        }
        try {
            r.value().write((int) (port - r.base()), size, value & allOnes(size));
        } catch (RuntimeException e) {
            LOG.error("device {} failed on out 0x{} (size {})", r.value(), Integer.toHexString(port), size, e);
        }
    }

    static long allOnes(int size) {
        return size >= 8 ? -1L : (1L << (8 * size)) - 1;
    }
}
