package io.jremus.vmm.memory;

import io.jremus.sys.Libc;
import io.jremus.sys.kvm.KvmConstants;
import io.jremus.vmm.VmmException;
import io.jremus.vmm.kvm.KvmVm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Creates guest RAM: one {@code memfd} (so a later snapshot or a second process can map the
 * same pages) mapped shared, split into KVM memory slots with dirty logging on.
 *
 * <p>Pages are reserved lazily ({@code MAP_NORESERVE}): a 1 GiB guest that touches 64 MiB
 * costs 64 MiB of host memory.
 */
public final class GuestRamAllocator {
    private GuestRamAllocator() {
    }

    /** A guest-physical RAM range to create. */
    public record Range(long guestAddress, long size) {
    }

    /**
     * Maps {@code ranges} and registers each as a slot (0, 1, ...) of {@code vm}.
     *
     * @param arena shared arena that owns the mapping (closing it unmaps guest RAM)
     */
    public static GuestMemory allocate(KvmVm vm, List<Range> ranges, Arena arena) {
        long total = 0;
        for (Range r : ranges) total += r.size();
        int memfd = Libc.memfdCreate("jremus-guest-ram", Libc.MFD_CLOEXEC);
        MemorySegment all;
        try {
            Libc.ftruncate(memfd, total);
            all = Libc.mmap(total, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED | Libc.MAP_NORESERVE, memfd, 0, arena,
                    "guest RAM");
        } catch (RuntimeException e) {
            throw new VmmException(VmmException.Kind.HOST, "cannot allocate " + (total >> 20) + " MiB of guest RAM: " + e.getMessage(), e);
        } finally {
            Libc.close(memfd); // the mapping keeps the memory alive
        }
        List<MemoryRegion> regions = new ArrayList<>();
        long offset = 0;
        int slot = 0;
        for (Range r : ranges) {
            MemorySegment host = all.asSlice(offset, r.size());
            vm.setUserMemoryRegion(slot, KvmConstants.KVM_MEM_LOG_DIRTY_PAGES, r.guestAddress(), host);
            regions.add(new MemoryRegion(slot, r.guestAddress(), host));
            offset += r.size();
            slot++;
        }
        return new GuestMemory(regions);
    }
}
