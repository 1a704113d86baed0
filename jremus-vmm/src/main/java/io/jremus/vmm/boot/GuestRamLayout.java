package io.jremus.vmm.boot;

import io.jremus.vmm.MachineLayout;

import java.util.List;

/**
 * Where a guest's RAM lives in guest-physical space: low RAM from 0 up to at most
 * {@link MachineLayout#LOW_RAM_END} (3 GiB), and anything beyond that from
 * {@link MachineLayout#HIGH_RAM_START} (4 GiB) up, leaving the 32-bit MMIO hole (virtio-mmio,
 * IOAPIC, LAPIC, KVM's TSS) free. The VM core maps exactly these regions; the memory map handed
 * to the guest is derived from them.
 */
public final class GuestRamLayout {
    /** Below this the kernel (loaded at 1 MiB or more) and its boot structures do not fit. */
    public static final long MIN_RAM = 16L << 20;
    /** 1 TiB: a sanity bound well inside any CPU's physical address width. */
    public static final long MAX_RAM = 1L << 40;

    private GuestRamLayout() {
    }

    /**
     * The RAM regions for a guest of {@code memBytes}, sorted by address.
     *
     * @throws BootException if the size is not a page multiple or outside [16 MiB, 1 TiB]
     */
    public static List<RamRegion> regionsFor(long memBytes) {
        if (memBytes < MIN_RAM || memBytes > MAX_RAM || (memBytes & 0xFFF) != 0) {
            throw new BootException("guest memory size " + memBytes + " bytes must be a multiple of 4 KiB between "
                    + (MIN_RAM >> 20) + " MiB and " + (MAX_RAM >> 30) + " GiB");
        }
        if (memBytes <= MachineLayout.LOW_RAM_END) {
            return List.of(new RamRegion(0, memBytes));
        }
        return List.of(new RamRegion(0, MachineLayout.LOW_RAM_END),
                new RamRegion(MachineLayout.HIGH_RAM_START, memBytes - MachineLayout.LOW_RAM_END));
    }
}
