package io.jremus.replication.stream.page;

import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

import static io.jremus.replication.stream.page.PageCodec.LONG_LE;
import static io.jremus.replication.stream.page.PageCodec.PAGE_SIZE;
import static io.jremus.replication.stream.page.PageCodec.WORDS;

/**
 * Applies encoded pages onto the backup's copy. Payloads are untrusted: each is validated in full
 * before the target page is touched, so a bad payload leaves the target as it was.
 *
 * <p>LZ4 goes through lz4-java's pure-Java <em>safe</em> decompressor: the JNI and Unsafe
 * decompressors of lz4-java 1.8.0 can read or write out of bounds on crafted input
 * (CVE-2025-12183). The scratch page is zeroed before each decompression, so crafted input cannot
 * pull an earlier page's octets out of it (CVE-2025-66566). Single-threaded; allocation-free.
 */
public final class PageDecoder {
    private final LZ4SafeDecompressor lz4 = LZ4Factory.safeInstance().safeDecompressor();
    private final byte[] scratch = new byte[PAGE_SIZE];
    private final MemorySegment scratchSeg = MemorySegment.ofArray(scratch);

    /**
     * Decodes one payload onto {@code target}.
     *
     * @param src    the payload's octets: {@code src[off .. off + len)}
     * @param target 4096 octets holding the old copy of the page (needed by the delta encodings);
     *               overwritten with the new copy
     */
    public void decode(PageEncoding encoding, MemorySegment src, long off, int len, MemorySegment target) throws PageFormatException {
        if (!encoding.lengthAllowed(len)) {
            throw new PageFormatException(encoding + " payload of " + len + " octets is not allowed");
        }
        if (target.byteSize() < PAGE_SIZE) {
            throw new IllegalArgumentException("target page has " + target.byteSize() + " octets, not " + PAGE_SIZE);
        }
        switch (encoding) {
            case ZERO -> (target.byteSize() == PAGE_SIZE ? target : target.asSlice(0, PAGE_SIZE)).fill((byte) 0);
            case RAW -> MemorySegment.copy(src, off, target, 0, PAGE_SIZE);
            case XOR_RLE -> {
                XorRle.validate(src, off, len);
                XorRle.apply(src, off, len, target);
            }
            case LZ4 -> {
                inflate(encoding, src, off, len);
                MemorySegment.copy(scratchSeg, 0, target, 0, PAGE_SIZE);
            }
            case XOR_LZ4 -> {
                inflate(encoding, src, off, len);
                for (int w = 0; w < WORDS; w++) {
                    long o = (long) w * 8;
                    target.set(LONG_LE, o, target.get(LONG_LE, o) ^ scratchSeg.get(LONG_LE, o));
                }
            }
        }
    }

    /** Convenience for a payload in a heap array. */
    public void decode(PageEncoding encoding, byte[] src, int off, int len, MemorySegment target) throws PageFormatException {
        decode(encoding, MemorySegment.ofArray(src), off, len, target);
    }

    private void inflate(PageEncoding encoding, MemorySegment src, long off, int len) throws PageFormatException {
        Arrays.fill(scratch, (byte) 0);
        int n;
        try {
            if (src.isNative() || !(src.heapBase().orElse(null) instanceof byte[] array)) {
                // Rare: payload not in a byte[]; copy it into a fresh array (not a hot path).
                byte[] copy = new byte[len];
                MemorySegment.copy(src, ValueLayout.JAVA_BYTE, off, copy, 0, len);
                n = lz4.decompress(copy, 0, len, scratch, 0, PAGE_SIZE);
            } else {
                n = lz4.decompress(array, Math.toIntExact(src.address() + off), len, scratch, 0, PAGE_SIZE);
            }
        } catch (LZ4Exception | ArrayIndexOutOfBoundsException e) {
            throw new PageFormatException(encoding + " payload of " + len + " octets does not decompress: " + e.getMessage());
        }
        if (n != PAGE_SIZE) {
            throw new PageFormatException(encoding + " payload of " + len + " octets decompresses to " + n + " octets, not " + PAGE_SIZE);
        }
    }
}
