package io.jremus.vmm.boot;

/**
 * One entry of the guest's physical memory map, in the e820 form shared by the Linux zero page
 * ({@code boot_e820_entry}) and PVH's {@code hvm_memmap_table_entry}: both use the same type codes.
 *
 * @param address guest-physical start
 * @param size    length in bytes
 * @param type    {@link #RAM}, {@link #RESERVED}, {@link #ACPI} or {@link #NVS}
 */
public record E820Entry(long address, long size, int type) {
    public static final int RAM = 1;
    public static final int RESERVED = 2;
    public static final int ACPI = 3;
    public static final int NVS = 4;

    public long end() {
        return address + size;
    }

    @Override
    public String toString() {
        return String.format("[0x%x, 0x%x) type %d", address, end(), type);
    }
}
