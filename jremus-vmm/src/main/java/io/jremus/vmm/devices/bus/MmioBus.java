package io.jremus.vmm.devices.bus;

import io.jremus.vmm.devices.MmioDevice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Guest-physical MMIO space outside RAM: routes a vCPU's MMIO exits to the device registered
 * for the address, passing the offset from the device's base.
 *
 * <p>An address no device claims reads as all ones and swallows writes (logged once per address
 * at debug level). A device that throws is treated the same way and logged at error level.
 * Register before the vCPUs start; dispatch is lock-free and safe from many vCPU threads.
 */
public final class MmioBus {
    private static final Logger LOG = LoggerFactory.getLogger(MmioBus.class);

    private final RangeMap<MmioDevice> devices = new RangeMap<>();
    private final UnclaimedAccessLog unclaimed = new UnclaimedAccessLog(LOG, "MMIO");

    /** Claims {@code [base, base+length)} for {@code device}; throws on overlap. */
    public MmioBus register(long base, long length, MmioDevice device) {
        devices.add(base, length, device, "MMIO");
        return this;
    }

    /** A read of {@code size} (1, 2, 4 or 8) bytes; only the low {@code size} bytes are set. */
    public long read(long address, int size) {
        RangeMap.Range<MmioDevice> r = devices.find(address, size);
        if (r == null) {
            unclaimed.record("read", address, size);
            return PioBus.allOnes(size);
        }
        try {
            return r.value().read(address - r.base(), size) & PioBus.allOnes(size);
        } catch (RuntimeException e) {
            LOG.error("device {} failed on MMIO read 0x{} (size {})", r.value(), Long.toHexString(address), size, e);
            return PioBus.allOnes(size);
        }
    }

    public void write(long address, int size, long value) {
        RangeMap.Range<MmioDevice> r = devices.find(address, size);
        if (r == null) {
            unclaimed.record("write", address, size);
            return;
        }
        try {
            r.value().write(address - r.base(), size, value & PioBus.allOnes(size));
        } catch (RuntimeException e) {
            LOG.error("device {} failed on MMIO write 0x{} (size {})", r.value(), Long.toHexString(address), size, e);
        }
    }
}
