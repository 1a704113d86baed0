package io.jremus.vmm.boot;

import io.jremus.vmm.MachineLayout;
import io.jremus.vmm.memory.GuestMemory;
import io.jremus.vmm.memory.MemoryRegion;

import java.lang.foreign.MemorySegment;

/**
 * Puts the initrd as high as possible in low RAM (below 3 GiB, page-aligned): far from the
 * kernel, which decompresses and grows upward from its load address, and where every kernel
 * can reach it. Nothing is reserved at the top of low RAM, so the initrd ends at the end of
 * low RAM unless the kernel's {@code initrd_addr_max} says lower.
 */
final class InitrdPlacement {
    private InitrdPlacement() {
    }

    /**
     * Copies the initrd and returns its guest address.
     *
     * @param lowestStart the initrd must start at or above this (the end of the kernel)
     * @param maxEnd      and end at or below this (exclusive)
     */
    static long place(GuestMemory memory, MemorySegment initrd, long lowestStart, long maxEnd) {
        long size = initrd.byteSize();
        long top = Math.min(Math.min(lowRamEnd(memory), MachineLayout.LOW_RAM_END), maxEnd);
        long start = (top - size) & -GuestMemory.PAGE_SIZE;
        if (size == 0 || size > top || start < lowestStart) {
            throw new BootException("initrd of " + size + " bytes does not fit between the kernel end 0x"
                    + Long.toHexString(lowestStart) + " and 0x" + Long.toHexString(top) + "; give the guest more memory");
        }
        MemorySegment.copy(initrd, 0, memory.sliceForWrite(start, size), 0, size);
        return start;
    }

    private static long lowRamEnd(GuestMemory memory) {
        for (MemoryRegion r : memory.regions()) {
            if (r.guestAddress() <= MachineLayout.HIMEM_START && r.guestAddress() + r.size() > MachineLayout.HIMEM_START) {
                return r.guestAddress() + r.size();
            }
        }
        throw new BootException("guest RAM does not cover 1 MiB");
    }
}
