package io.jremus.vmm.devices.bus;

import java.util.Arrays;

/**
 * Non-overlapping address ranges {@code [base, base+length)} mapped to values, looked up by
 * address. Used by both buses: ports and guest-physical addresses are unsigned and fit a
 * {@code long} (bases are compared unsigned-safe because both buses stay below 2^63).
 *
 * <p>Registration copies the arrays (it happens a handful of times, at machine build);
 * lookups read one immutable snapshot through a volatile field, so any number of vCPU threads
 * may dispatch concurrently with no locking.
 */
final class RangeMap<T> {
    /** One registration; immutable. */
    record Range<T>(long base, long length, T value) {
        long end() {
            return base + length;
        }
    }

    private volatile Range<T>[] ranges;

    @SuppressWarnings("unchecked")
    RangeMap() {
        ranges = (Range<T>[]) new Range<?>[0];
    }

    /** @throws IllegalArgumentException if the range is empty, negative, or overlaps another. */
    synchronized void add(long base, long length, T value, String unit) {
        if (length <= 0 || base < 0 || base + length < base) {
            throw new IllegalArgumentException("bad " + unit + " range: base=0x" + Long.toHexString(base)
                    + " length=0x" + Long.toHexString(length));
        }
        Range<T> added = new Range<>(base, length, value);
        Range<T>[] current = ranges;
        for (Range<T> r : current) {
            if (base < r.end() && r.base() < added.end()) {
                throw new IllegalArgumentException(unit + " range [0x" + Long.toHexString(base) + ", 0x"
                        + Long.toHexString(added.end()) + ") for " + value + " overlaps [0x"
                        + Long.toHexString(r.base()) + ", 0x" + Long.toHexString(r.end()) + ") of " + r.value());
            }
        }
        Range<T>[] next = Arrays.copyOf(current, current.length + 1);
        next[current.length] = added;
        Arrays.sort(next, (a, b) -> Long.compare(a.base(), b.base()));
        ranges = next;
    }

    /** The range holding all of {@code [address, address+size)}, or null. */
    Range<T> find(long address, int size) {
        Range<T>[] rs = ranges;
        int lo = 0;
        int hi = rs.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            Range<T> r = rs[mid];
            if (address < r.base()) {
                hi = mid - 1;
            } else if (address >= r.end()) {
                lo = mid + 1;
            } else {
                // An access that starts inside but runs past the end is not this device's.
                return address + size <= r.end() ? r : null;
            }
        }
        return null;
    }
}
