package io.jremus.vmm.net;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A reusable native array of {@code struct iovec} ({@code void *base; size_t len}, 16 bytes
 * each) for readv/writev/preadv/pwritev: fill it with {@link #add}, pass {@link #segment()} and
 * {@link #count()}, {@link #clear()} it for the next request. Made once per queue, so a
 * request or a packet allocates nothing. Not thread-safe.
 */
public final class IoVec {
    public static final long ENTRY = 16;

    private final MemorySegment array;
    private final int capacity;
    private int count;
    private long total;

    public IoVec(int capacity, Arena arena) {
        this.capacity = capacity;
        this.array = arena.allocate(ENTRY * capacity, 8);
    }

    public void clear() {
        count = 0;
        total = 0;
    }

    /** Appends {@code len} bytes at host address {@code address}; empty ranges are skipped. */
    public void add(long address, long len) {
        if (len == 0) return;
        if (count == capacity) throw new IllegalStateException("iovec array full (" + capacity + " entries)");
        array.set(ValueLayout.JAVA_LONG, ENTRY * count, address);
        array.set(ValueLayout.JAVA_LONG, ENTRY * count + 8, len);
        count++;
        total += len;
    }

    /** Appends a whole native segment. */
    public void add(MemorySegment s) {
        add(s.address(), s.byteSize());
    }

    public int count() {
        return count;
    }

    public int capacity() {
        return capacity;
    }

    /** Sum of the lengths added. */
    public long totalBytes() {
        return total;
    }

    public MemorySegment segment() {
        return array;
    }

    public long address(int i) {
        return array.get(ValueLayout.JAVA_LONG, ENTRY * i);
    }

    public long length(int i) {
        return array.get(ValueLayout.JAVA_LONG, ENTRY * i + 8);
    }

    /**
     * Drops the first {@code bytes} of the vector (after a short transfer) and returns the index
     * of the first entry still holding data; the entry there is trimmed in place.
     *
     * @param first index of the first live entry before this call
     */
    public int advance(int first, long bytes) {
        int i = first;
        while (i < count && bytes >= length(i)) {
            bytes -= length(i);
            i++;
        }
        if (i < count && bytes > 0) {
            array.set(ValueLayout.JAVA_LONG, ENTRY * i, address(i) + bytes);
            array.set(ValueLayout.JAVA_LONG, ENTRY * i + 8, length(i) - bytes);
        }
        return i;
    }

    /** Copies {@code len} bytes gathered from the entries, starting at byte {@code from}, into {@code dst}. */
    public void gather(long from, MemorySegment dst, long len) {
        long done = 0;
        long pos = 0;
        for (int i = 0; i < count && done < len; i++) {
            long l = length(i);
            if (pos + l > from) {
                long skip = Math.max(0, from - pos);
                long n = Math.min(l - skip, len - done);
                MemorySegment.copy(MemorySegment.ofAddress(address(i) + skip).reinterpret(n), 0, dst, done, n);
                done += n;
            }
            pos += l;
        }
    }
}
