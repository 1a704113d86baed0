package io.jremus.vmm.devices.virtio;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Flyweight over one 16-byte split-ring descriptor in a descriptor table (the queue's own or an
 * indirect one). {@link #wrap} points it at an entry; the getters read guest memory directly, so
 * each value is read once by the caller and the copy used from then on (the guest may rewrite
 * the table at any moment). No allocation per descriptor.
 *
 * <pre>
 *   0      8       12      14      16
 *   | addr | len   | flags | next  |     little-endian
 * </pre>
 */
final class Descriptor {
    static final int SIZE = 16;
    static final int ADDR_OFFSET = 0;
    static final int LEN_OFFSET = 8;
    static final int FLAGS_OFFSET = 12;
    static final int NEXT_OFFSET = 14;

    /** The chain continues at {@code next}. */
    static final int F_NEXT = 1;
    /** Device-writable buffer (else device-readable). */
    static final int F_WRITE = 2;
    /** The buffer is a table of descriptors. */
    static final int F_INDIRECT = 4;

    private MemorySegment table;
    private long base;

    /** Points at entry {@code index} of {@code table}; the caller has checked the bound. */
    Descriptor wrap(MemorySegment table, int index) {
        this.table = table;
        this.base = (long) index * SIZE;
        return this;
    }

    long addr() {
        return table.get(ValueLayout.JAVA_LONG_UNALIGNED, base + ADDR_OFFSET);
    }

    /** Length as an unsigned 32-bit value. */
    long len() {
        return Integer.toUnsignedLong(table.get(ValueLayout.JAVA_INT_UNALIGNED, base + LEN_OFFSET));
    }

    int flags() {
        return Short.toUnsignedInt(table.get(ValueLayout.JAVA_SHORT_UNALIGNED, base + FLAGS_OFFSET));
    }

    int next() {
        return Short.toUnsignedInt(table.get(ValueLayout.JAVA_SHORT_UNALIGNED, base + NEXT_OFFSET));
    }
}
