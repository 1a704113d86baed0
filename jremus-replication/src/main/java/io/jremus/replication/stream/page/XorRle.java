package io.jremus.replication.stream.page;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.jremus.replication.stream.page.PageCodec.LONG_LE;
import static io.jremus.replication.stream.page.PageCodec.PAGE_SIZE;
import static io.jremus.replication.stream.page.PageCodec.WORDS;

/**
 * The XOR_RLE run format of docs/stream-format.md §6.1: a sequence of 16-bit little-endian run
 * headers (bit 15 literal, bits 14..12 reserved, bits 11..0 length − 1), a literal followed by its
 * delta octets. Stateless; all methods are allocation-free.
 */
public final class XorRle {
    static final int LITERAL = 0x8000;
    static final int RESERVED = 0x7000;
    static final int LENGTH_MASK = 0x0FFF;
    /** A zero gap this short stays inside a literal: splitting would cost as much (two run headers). */
    static final int MAX_GAP_KEPT = 4;

    private XorRle() {
    }

    /**
     * Encodes a 4096-octet delta (old XOR new) into {@code out[outOffset..]}.
     *
     * @return the payload length, or -1 when it would exceed {@code limit} octets (then RAW is smaller)
     */
    public static int encode(MemorySegment delta, byte[] out, int outOffset, int limit) {
        int len = 0;
        int litStart = -1;
        int litEnd = -1;
        int done = 0; // delta octets already covered by emitted runs
        // Scan a word at a time; a non-zero word's first and last changed octet come from its zero counts.
        for (int w = 0; w < WORDS; w++) {
            long x = delta.get(LONG_LE, (long) w * 8);
            if (x == 0) {
                continue;
            }
            int s = w * 8 + (Long.numberOfTrailingZeros(x) >>> 3);
            int e = w * 8 + 8 - (Long.numberOfLeadingZeros(x) >>> 3);
            if (litStart >= 0 && s - litEnd <= MAX_GAP_KEPT) {
                litEnd = e;
                continue;
            }
            if (litStart >= 0) {
                len = emit(delta, done, litStart, litEnd, out, outOffset, len, limit);
                if (len < 0) {
                    return -1;
                }
                done = litEnd;
            }
            litStart = s;
            litEnd = e;
        }
        if (litStart >= 0) {
            len = emit(delta, done, litStart, litEnd, out, outOffset, len, limit);
        }
        return len;
    }

    private static int emit(MemorySegment delta, int done, int litStart, int litEnd, byte[] out, int base, int len, int limit) {
        int n = litEnd - litStart;
        int need = (litStart > done ? 2 : 0) + 2 + n;
        if (len + need > limit) {
            return -1;
        }
        int p = base + len;
        if (litStart > done) {
            putRun(out, p, 0, litStart - done);
            p += 2;
        }
        putRun(out, p, LITERAL, n);
        p += 2;
        MemorySegment.copy(delta, ValueLayout.JAVA_BYTE, litStart, out, p, n);
        return len + need;
    }

    private static void putRun(byte[] out, int p, int kind, int length) {
        int h = kind | (length - 1);
        out[p] = (byte) h;
        out[p + 1] = (byte) (h >>> 8);
    }

    /**
     * Checks that a payload is well formed: every run header has zero reserved bits, no run ends past
     * octet 4096, no literal is cut short. Touches no page.
     */
    public static void validate(MemorySegment src, long off, int len) throws PageFormatException {
        int p = 0;
        int pos = 0;
        while (p < len) {
            if (p + 2 > len) {
                throw new PageFormatException("XOR_RLE run header cut short at payload octet " + p + " of " + len);
            }
            int h = runHeader(src, off + p);
            if ((h & RESERVED) != 0) {
                throw new PageFormatException(String.format("XOR_RLE run header 0x%04x at payload octet %d has reserved bits set", h, p));
            }
            int n = (h & LENGTH_MASK) + 1;
            if (pos + n > PAGE_SIZE) {
                throw new PageFormatException("XOR_RLE run at payload octet " + p + " ends at page octet " + (pos + n) + ", past " + PAGE_SIZE);
            }
            if ((h & LITERAL) != 0) {
                if (p + 2 + n > len) {
                    throw new PageFormatException("XOR_RLE literal of " + n + " octets at payload octet " + p + " is cut short: payload has " + len + " octets");
                }
                p += 2 + n;
            } else {
                p += 2;
            }
            pos += n;
        }
    }

    /** XORs a payload that {@link #validate} accepted into {@code page} (4096 octets holding the old copy). */
    public static void apply(MemorySegment src, long off, int len, MemorySegment page) {
        int p = 0;
        int pos = 0;
        while (p < len) {
            int h = runHeader(src, off + p);
            int n = (h & LENGTH_MASK) + 1;
            p += 2;
            if ((h & LITERAL) != 0) {
                xorInto(src, off + p, page, pos, n);
                p += n;
            }
            pos += n;
        }
    }

    private static int runHeader(MemorySegment src, long at) {
        return (src.get(ValueLayout.JAVA_BYTE, at) & 0xFF) | (src.get(ValueLayout.JAVA_BYTE, at + 1) & 0xFF) << 8;
    }

    private static void xorInto(MemorySegment src, long s, MemorySegment page, int pos, int n) {
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            page.set(LONG_LE, pos + i, page.get(LONG_LE, pos + i) ^ src.get(LONG_LE, s + i));
        }
        for (; i < n; i++) {
            byte v = (byte) (page.get(ValueLayout.JAVA_BYTE, pos + i) ^ src.get(ValueLayout.JAVA_BYTE, s + i));
            page.set(ValueLayout.JAVA_BYTE, pos + i, v);
        }
    }
}
