package io.jremus.vmm.boot;

/**
 * One contiguous range of guest RAM, as the VM core maps it into KVM and as the memory map
 * reports it. Plain data; see {@link GuestRamLayout#regionsFor(long)}.
 *
 * @param guestAddress page-aligned guest-physical start
 * @param size         page-multiple length in bytes
 */
public record RamRegion(long guestAddress, long size) {
    public RamRegion {
        if (guestAddress < 0 || size <= 0 || ((guestAddress | size) & 0xFFF) != 0) {
            throw new IllegalArgumentException("RAM region must be page-aligned and non-empty: 0x"
                    + Long.toHexString(guestAddress) + " +0x" + Long.toHexString(size));
        }
    }

    public long end() {
        return guestAddress + size;
    }
}
