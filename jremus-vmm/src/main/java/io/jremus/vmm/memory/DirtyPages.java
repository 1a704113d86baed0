package io.jremus.vmm.memory;

import java.util.List;
import java.util.function.LongConsumer;

/**
 * A harvested set of dirty pages: per region, a bitmap in KVM's layout (bit i of word w is page
 * 64*w+i of that region). The union of KVM's log and the VMM's own bitmap at one instant.
 */
public final class DirtyPages {
    private final List<MemoryRegion> regions;
    private final long[][] bitmaps;

    DirtyPages(List<MemoryRegion> regions, long[][] bitmaps) {
        this.regions = regions;
        this.bitmaps = bitmaps;
    }

    /** A set built by hand (tests, a backup replaying a stream); bitmaps in KVM's layout. */
    public static DirtyPages of(List<MemoryRegion> regions, long[][] bitmaps) {
        if (regions.size() != bitmaps.length) throw new IllegalArgumentException(regions.size() + " regions, " + bitmaps.length + " bitmaps");
        return new DirtyPages(List.copyOf(regions), bitmaps.clone());
    }

    public int regionCount() {
        return regions.size();
    }

    public MemoryRegion region(int i) {
        return regions.get(i);
    }

    /** The bitmap words of region {@code i} (not a copy: do not modify). */
    public long[] bitmap(int i) {
        return bitmaps[i];
    }

    public long count() {
        long n = 0;
        for (long[] b : bitmaps) for (long w : b) n += Long.bitCount(w);
        return n;
    }

    public boolean isDirty(long gpa) {
        for (int i = 0; i < regions.size(); i++) {
            MemoryRegion r = regions.get(i);
            long off = gpa - r.guestAddress();
            if (off >= 0 && off < r.size()) {
                long page = off >>> GuestMemory.PAGE_SHIFT;
                return (bitmaps[i][(int) (page >>> 6)] & (1L << (page & 63))) != 0;
            }
        }
        return false;
    }

    /** Calls {@code action} with the guest-physical address of every dirty page, in order. */
    public void forEachPage(LongConsumer action) {
        for (int i = 0; i < regions.size(); i++) {
            long base = regions.get(i).guestAddress();
            long[] b = bitmaps[i];
            for (int w = 0; w < b.length; w++) {
                for (long bits = b[w]; bits != 0; bits &= bits - 1) {
                    long page = (long) w * 64 + Long.numberOfTrailingZeros(bits);
                    action.accept(base + (page << GuestMemory.PAGE_SHIFT));
                }
            }
        }
    }
}
