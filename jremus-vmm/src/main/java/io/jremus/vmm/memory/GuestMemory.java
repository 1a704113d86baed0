package io.jremus.vmm.memory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Objects;

/**
 * The guest's RAM as the VMM sees it: one or more regions, each a host mapping of a
 * guest-physical range, plus the VMM-side dirty bitmap (architecture invariant 4).
 *
 * <p>Every address here is guest-physical and untrusted: accessors check that the whole access
 * lies inside one region and throw {@link GuestMemoryException} otherwise. Writes through
 * {@link #sliceForWrite}, {@code put*} and {@link #write} mark the touched pages dirty, because
 * KVM's dirty log does not see stores made by the VMM; {@link #slice} is for reads only.
 *
 * <p>Thread-safety: the mapping is shared by vCPU and device threads; marking dirty is atomic.
 * Multi-byte accessors are little-endian (x86) and unaligned-safe.
 */
public final class GuestMemory {
    public static final int PAGE_SHIFT = 12;
    public static final long PAGE_SIZE = 1L << PAGE_SHIFT;

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;

    private final List<MemoryRegion> regions;

    /** @param regions non-overlapping, page-aligned regions sorted by guest address. */
    public GuestMemory(List<MemoryRegion> regions) {
        this.regions = List.copyOf(regions);
        long end = -1;
        for (MemoryRegion r : this.regions) {
            if (r.guestAddress() <= end) {
                throw new IllegalArgumentException("regions overlap or are unsorted at 0x" + Long.toHexString(r.guestAddress()));
            }
            end = r.guestAddress() + r.size() - 1;
        }
    }

    /** Memory backed by the given host segment, mapped at guest address 0 (handy for tests). */
    public static GuestMemory of(MemorySegment host) {
        return new GuestMemory(List.of(new MemoryRegion(0, 0, host)));
    }

    public List<MemoryRegion> regions() {
        return regions;
    }

    /** Total bytes of RAM over all regions. */
    public long size() {
        long total = 0;
        for (MemoryRegion r : regions) total += r.size();
        return total;
    }

    /** Whether [gpa, gpa+len) lies entirely inside one region. */
    public boolean contains(long gpa, long len) {
        return find(gpa, len) != null;
    }

    /** A read view of [gpa, gpa+len). Stores through it are NOT tracked: use {@link #sliceForWrite}. */
    public MemorySegment slice(long gpa, long len) {
        MemoryRegion r = require(gpa, len);
        return r.host().asSlice(gpa - r.guestAddress(), len);
    }

    /**
     * A writable view of [gpa, gpa+len); its pages are marked dirty before it is returned, so
     * the caller's stores come after the mark. A harvest between the mark and the stores would
     * miss them: whoever harvests for a checkpoint must first quiesce the device threads that
     * write through such views (the checkpoint's postSuspend step).
     */
    public MemorySegment sliceForWrite(long gpa, long len) {
        MemoryRegion r = require(gpa, len);
        r.dirty().markRange(gpa - r.guestAddress(), len);
        return r.host().asSlice(gpa - r.guestAddress(), len);
    }

    /** Marks [gpa, gpa+len) dirty, for a write the caller made through another view. */
    public void markDirty(long gpa, long len) {
        MemoryRegion r = require(gpa, len);
        r.dirty().markRange(gpa - r.guestAddress(), len);
    }

    public byte getByte(long gpa) {
        return slice(gpa, 1).get(ValueLayout.JAVA_BYTE, 0);
    }

    public short getShort(long gpa) {
        return slice(gpa, 2).get(U16, 0);
    }

    public int getInt(long gpa) {
        return slice(gpa, 4).get(U32, 0);
    }

    public long getLong(long gpa) {
        return slice(gpa, 8).get(U64, 0);
    }

    // The put* and write methods store first and mark after, so a harvest racing them sees the
    // page either in this harvest (store done) or in the next one, never in neither.

    public void putByte(long gpa, byte v) {
        slice(gpa, 1).set(ValueLayout.JAVA_BYTE, 0, v);
        markDirty(gpa, 1);
    }

    public void putShort(long gpa, short v) {
        slice(gpa, 2).set(U16, 0, v);
        markDirty(gpa, 2);
    }

    public void putInt(long gpa, int v) {
        slice(gpa, 4).set(U32, 0, v);
        markDirty(gpa, 4);
    }

    public void putLong(long gpa, long v) {
        slice(gpa, 8).set(U64, 0, v);
        markDirty(gpa, 8);
    }

    /** Copies {@code bytes} to guest address {@code gpa}, marking the pages dirty. */
    public void write(long gpa, byte[] bytes) {
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, slice(gpa, bytes.length), 0, bytes.length);
        markDirty(gpa, bytes.length);
    }

    /** Copies {@code len} bytes from guest address {@code gpa} into a new array. */
    public byte[] read(long gpa, int len) {
        return slice(gpa, len).toArray(ValueLayout.JAVA_BYTE);
    }

    private MemoryRegion require(long gpa, long len) {
        MemoryRegion r = find(gpa, len);
        if (r == null) {
            throw new GuestMemoryException("guest range [0x" + Long.toHexString(gpa) + ", +0x"
                    + Long.toHexString(len) + ") is outside guest RAM");
        }
        return r;
    }

    private MemoryRegion find(long gpa, long len) {
        if (len < 0 || gpa < 0) return null;
        for (MemoryRegion r : regions) {
            long off = gpa - r.guestAddress();
            if (off >= 0 && off < r.size() && len <= r.size() - off) return r;
        }
        return null;
    }

    @Override
    public String toString() {
        return "GuestMemory" + Objects.toString(regions);
    }
}
