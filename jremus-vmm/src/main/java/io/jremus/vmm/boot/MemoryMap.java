package io.jremus.vmm.boot;

import io.jremus.vmm.MachineLayout;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Builds the memory map (e820) a guest is told about, for both the PVH and the bzImage path.
 *
 * <p>All RAM is reported usable except the legacy hole [{@link MachineLayout#LOW_RESERVED_START},
 * 1 MiB), which is reported RESERVED although it is backed by RAM: that is where a PC keeps its
 * EBDA and BIOS, where Linux expects no usable memory, and where jremus puts its ACPI tables
 * ({@link MachineLayout#ACPI_TABLES}). One reserved range rather than a separate ACPI-type range
 * keeps the map simple; Linux reaches the tables through the RSDP pointer either way and never
 * reuses reserved memory.
 */
public final class MemoryMap {
    private static final long HOLE_START = MachineLayout.LOW_RESERVED_START;
    private static final long HOLE_END = MachineLayout.HIMEM_START;

    private MemoryMap() {
    }

    /** The map for a guest laid out by {@link GuestRamLayout#regionsFor(long)}. */
    public static List<E820Entry> forMemorySize(long memBytes) {
        return forRegions(GuestRamLayout.regionsFor(memBytes));
    }

    /**
     * The map for the given RAM regions (sorted, non-overlapping). The first region must start
     * at 0 and extend past 1 MiB, as every jremus layout does.
     */
    public static List<E820Entry> forRegions(List<RamRegion> regions) {
        if (regions.isEmpty() || regions.getFirst().guestAddress() != 0 || regions.getFirst().end() <= HOLE_END) {
            throw new BootException("guest RAM must start at 0 and extend beyond 1 MiB, got " + regions);
        }
        List<E820Entry> map = new ArrayList<>();
        for (RamRegion r : regions) {
            long start = r.guestAddress();
            long end = r.end();
            if (start < HOLE_START) {
                map.add(new E820Entry(start, Math.min(end, HOLE_START) - start, E820Entry.RAM));
            }
            long above = Math.max(start, HOLE_END);
            if (end > above) {
                map.add(new E820Entry(above, end - above, E820Entry.RAM));
            }
        }
        map.add(new E820Entry(HOLE_START, HOLE_END - HOLE_START, E820Entry.RESERVED));
        map.sort(Comparator.comparingLong(E820Entry::address));
        return List.copyOf(map);
    }
}
