package io.jremus.vmm.memory;

import java.lang.foreign.MemorySegment;

/**
 * One contiguous guest-physical range of RAM and the host segment that backs it.
 *
 * @param slot         the KVM memory slot number registered for this region
 * @param guestAddress page-aligned guest-physical start
 * @param host         the host mapping; its byte size is the region size (a page multiple)
 * @param dirty        pages the VMM itself wrote since the last harvest
 */
public record MemoryRegion(int slot, long guestAddress, MemorySegment host, VmmDirtyBitmap dirty) {
    public MemoryRegion {
        if ((guestAddress & (GuestMemory.PAGE_SIZE - 1)) != 0 || (host.byteSize() & (GuestMemory.PAGE_SIZE - 1)) != 0) {
            throw new IllegalArgumentException("region must be page-aligned: gpa=0x" + Long.toHexString(guestAddress)
                    + " size=0x" + Long.toHexString(host.byteSize()));
        }
    }

    public MemoryRegion(int slot, long guestAddress, MemorySegment host) {
        this(slot, guestAddress, host, new VmmDirtyBitmap(host.byteSize() >>> GuestMemory.PAGE_SHIFT));
    }

    public long size() {
        return host.byteSize();
    }

    public long pages() {
        return host.byteSize() >>> GuestMemory.PAGE_SHIFT;
    }
}
