package io.jremus.replication.remus;

import io.jremus.vmm.boot.RamRegion;
import io.jremus.vmm.memory.GuestMemory;
import io.jremus.vmm.memory.MemoryRegion;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A copy of guest RAM laid out like it: on the primary, the last copy of each page sent to the
 * backup (the base of XOR deltas, as Remus kept); on the backup, the committed image. Pages are
 * addressed by guest-physical address; an address outside the layout is an error.
 */
final class ShadowMemory {
    private final List<RamRegion> layout;
    private final MemorySegment[] copies;

    /** The layout of a VM's RAM. */
    static List<RamRegion> layoutOf(List<MemoryRegion> regions) {
        return regions.stream().map(r -> new RamRegion(r.guestAddress(), r.size())).toList();
    }

    ShadowMemory(List<RamRegion> layout, Arena arena) {
        this.layout = List.copyOf(layout);
        this.copies = new MemorySegment[layout.size()];
        for (int i = 0; i < copies.length; i++) copies[i] = arena.allocate(layout.get(i).size(), GuestMemory.PAGE_SIZE);
    }

    /** The 4 KiB copy of the page at {@code gpa}. */
    MemorySegment page(long gpa) {
        for (int i = 0; i < copies.length; i++) {
            long off = gpa - layout.get(i).guestAddress();
            if (off >= 0 && off < layout.get(i).size()) return copies[i].asSlice(off & ~(GuestMemory.PAGE_SIZE - 1), GuestMemory.PAGE_SIZE);
        }
        throw new IllegalArgumentException("gpa 0x" + Long.toHexString(gpa) + " outside guest RAM");
    }

    List<RamRegion> layout() {
        return layout;
    }

    MemorySegment region(int i) {
        return copies[i];
    }
}
