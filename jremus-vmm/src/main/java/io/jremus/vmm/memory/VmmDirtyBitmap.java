package io.jremus.vmm.memory;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Pages of one region that the VMM wrote (device DMA: virtio used rings, RX buffers, disk
 * reads, boot-time setup). KVM's dirty log only sees vCPU stores, so a checkpoint must unite
 * this bitmap with KVM's (invariant 4). Bit {@code i} of word {@code w} is page {@code 64*w+i},
 * the same layout as {@code KVM_GET_DIRTY_LOG}, so the two can be OR-ed word by word.
 */
public final class VmmDirtyBitmap {
    private final long pages;
    private final AtomicLongArray words;

    public VmmDirtyBitmap(long pages) {
        this.pages = pages;
        this.words = new AtomicLongArray(Math.toIntExact((pages + 63) / 64));
    }

    public long pages() {
        return pages;
    }

    public int words() {
        return words.length();
    }

    /** Marks every page that [offset, offset+len) touches; offset is relative to the region. */
    public void markRange(long offset, long len) {
        if (len <= 0) return;
        long first = offset >>> GuestMemory.PAGE_SHIFT;
        long last = (offset + len - 1) >>> GuestMemory.PAGE_SHIFT;
        for (long p = first; p <= last; p++) markPage(p);
    }

    public void markPage(long page) {
        int w = (int) (page >>> 6);
        long bit = 1L << (page & 63);
        // Read first: the common case (already dirty) then costs no atomic write.
        if ((words.get(w) & bit) == 0) words.getAndAccumulate(w, bit, (a, b) -> a | b);
    }

    public boolean isDirty(long page) {
        return (words.get((int) (page >>> 6)) & (1L << (page & 63))) != 0;
    }

    /** Atomically takes word {@code w} and clears it. */
    public long takeWord(int w) {
        return words.get(w) == 0 ? 0 : words.getAndSet(w, 0);
    }

    /** Clears every bit. */
    public void clear() {
        for (int i = 0; i < words.length(); i++) words.set(i, 0);
    }
}
