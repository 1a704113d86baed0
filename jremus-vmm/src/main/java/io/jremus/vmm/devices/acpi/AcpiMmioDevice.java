package io.jremus.vmm.devices.acpi;

/**
 * A virtio-mmio transport as the DSDT announces it: a {@code LNRO0005} device with one
 * memory window and one level-triggered interrupt.
 *
 * @param base guest-physical base of the register window
 * @param size window length (0x200 for virtio-mmio)
 * @param gsi  the IOAPIC input its interrupt line drives
 */
public record AcpiMmioDevice(long base, long size, int gsi) {
    public AcpiMmioDevice {
        if (base < 0 || base + size > (1L << 32) || size <= 0) {
            throw new IllegalArgumentException("virtio-mmio window must lie below 4 GiB: 0x" + Long.toHexString(base));
        }
        if (gsi < 0 || gsi >= AcpiConfig.IOAPIC_PINS) {
            throw new IllegalArgumentException("GSI " + gsi + " is not an IOAPIC input (0.." + (AcpiConfig.IOAPIC_PINS - 1) + ")");
        }
    }
}
