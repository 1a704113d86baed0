package io.jremus.replication.stream.page;

import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PageCodecTest {
    private static final int PAGE = 4096;
    private final Arena arena = Arena.ofAuto();

    /** Page kinds seen in guests: random (encrypted/compressed data), text, sparse, zero. */
    static void fill(MemorySegment p, Random r, int kind) {
        switch (kind) {
            case 0 -> {
                for (int i = 0; i < PAGE; i += 8) p.set(ValueLayout.JAVA_LONG_UNALIGNED, i, r.nextLong());
            }
            case 1 -> {
                String words = "the quick brown fox jumps over the lazy dog while kvm exits and remus checkpoints ";
                for (int i = 0; i < PAGE; i++) p.set(ValueLayout.JAVA_BYTE, i, (byte) words.charAt((i * 7 + r.nextInt(3)) % words.length()));
            }
            case 2 -> {
                p.fill((byte) 0);
                for (int k = 0; k < 20; k++) p.set(ValueLayout.JAVA_LONG_UNALIGNED, r.nextInt(PAGE / 8) * 8L, r.nextLong());
            }
            default -> p.fill((byte) 0);
        }
    }

    /** Applies a random change of a random kind. */
    static void mutate(MemorySegment p, Random r) {
        switch (r.nextInt(6)) {
            case 0 -> { // a few words
                for (int k = 1 + r.nextInt(4); k > 0; k--) p.set(ValueLayout.JAVA_INT_UNALIGNED, r.nextInt(PAGE / 4) * 4L, r.nextInt());
            }
            case 1 -> { // a run of octets
                int at = r.nextInt(PAGE);
                int n = Math.min(PAGE - at, 1 + r.nextInt(700));
                for (int i = 0; i < n; i++) p.set(ValueLayout.JAVA_BYTE, at + i, (byte) r.nextInt());
            }
            case 2 -> { // scattered single octets, some near each other
                for (int k = r.nextInt(200); k > 0; k--) p.set(ValueLayout.JAVA_BYTE, r.nextInt(PAGE), (byte) r.nextInt());
            }
            case 3 -> { // first and last octet (edges)
                p.set(ValueLayout.JAVA_BYTE, 0, (byte) (p.get(ValueLayout.JAVA_BYTE, 0) + 1));
                p.set(ValueLayout.JAVA_BYTE, PAGE - 1, (byte) (p.get(ValueLayout.JAVA_BYTE, PAGE - 1) + 1));
            }
            case 4 -> fill(p, r, r.nextInt(4)); // rewritten
            default -> { // unchanged
            }
        }
    }

    @Test
    void shouldRoundTripManyRandomPagesWithEveryPolicy() throws Exception {
        Random r = new Random(42);
        PageDecoder dec = new PageDecoder();
        byte[] out = new byte[PAGE];
        for (PageEncoder.Policy policy : PageEncoder.Policy.values()) {
            PageEncoder enc = PageEncoder.create(policy);
            MemorySegment old = arena.allocate(PAGE);
            MemorySegment now = arena.allocate(PAGE);
            MemorySegment backup = arena.allocate(PAGE);
            for (int iter = 0; iter < 3000; iter++) {
                fill(old, r, r.nextInt(4));
                now.copyFrom(old);
                mutate(now, r);
                boolean cached = r.nextInt(4) != 0;
                PageEncoding e = enc.encode(now, cached ? old : null, out, 0);
                int len = enc.length();
                assertThat(e.lengthAllowed(len)).isTrue();
                assertThat(len).isLessThanOrEqualTo(PAGE);
                if (!cached) {
                    assertThat(e.isDelta()).isFalse();
                }
                backup.copyFrom(old);
                dec.decode(e, out, 0, len, backup);
                assertThat(backup.mismatch(now)).as("iteration %d, %s, %s of %d octets", iter, policy, e, len).isEqualTo(-1L);
            }
            assertThat(enc.bytesOut()).isLessThan(enc.bytesIn());
        }
    }

    @Test
    void shouldPickTheSmallestEncoding() {
        Random r = new Random(7);
        LZ4Compressor lz4 = PageEncoder.defaultCompressor();
        PageEncoder enc = new PageEncoder(PageEncoder.Policy.SMALLEST, lz4);
        byte[] out = new byte[PAGE];
        byte[] raw = new byte[PAGE];
        byte[] delta = new byte[PAGE];
        byte[] scratch = new byte[lz4.maxCompressedLength(PAGE)];
        MemorySegment old = arena.allocate(PAGE);
        MemorySegment now = arena.allocate(PAGE);
        for (int iter = 0; iter < 2000; iter++) {
            fill(old, r, r.nextInt(4));
            now.copyFrom(old);
            mutate(now, r);
            PageEncoding e = enc.encode(now, old, out, 0);
            int chosen = enc.length();
            MemorySegment.copy(now, ValueLayout.JAVA_BYTE, 0, raw, 0, PAGE);
            for (int i = 0; i < PAGE; i++) delta[i] = (byte) (raw[i] ^ old.get(ValueLayout.JAVA_BYTE, i));
            boolean zero = now.mismatch(arena.allocate(PAGE)) == -1;
            int best = zero ? 0 : PAGE;
            int rle = XorRle.encode(MemorySegment.ofArray(delta), scratch, 0, PAGE);
            if (rle >= 0) best = Math.min(best, rle);
            best = Math.min(best, lz4.compress(raw, 0, PAGE, scratch, 0, scratch.length));
            best = Math.min(best, lz4.compress(delta, 0, PAGE, scratch, 0, scratch.length));
            assertThat(chosen).as("iteration %d chose %s", iter, e).isEqualTo(best);
        }
    }

    @Test
    void shouldEncodeZeroPagesAsZeroAndUnchangedPagesAsAnEmptyDelta() {
        PageEncoder enc = PageEncoder.create(PageEncoder.Policy.FAST);
        MemorySegment zero = arena.allocate(PAGE);
        MemorySegment p = arena.allocate(PAGE);
        fill(p, new Random(1), 0);
        assertThat(enc.encode(zero, null, new byte[PAGE], 0)).isEqualTo(PageEncoding.ZERO);
        assertThat(enc.length()).isZero();
        assertThat(enc.encode(p, p, new byte[PAGE], 0)).isEqualTo(PageEncoding.XOR_RLE);
        assertThat(enc.length()).isZero();
        assertThat(enc.encode(p, null, new byte[PAGE], 0)).isEqualTo(PageEncoding.RAW);
        assertThat(enc.length()).isEqualTo(PAGE);
    }

    @Test
    void shouldEncodeTheSpecExampleExactly() {
        // docs/stream-format.md §6.1: octets 16..19 and 4000..4007 changed.
        MemorySegment delta = arena.allocate(PAGE);
        for (int i = 16; i < 20; i++) delta.set(ValueLayout.JAVA_BYTE, i, (byte) (0xd0 + i - 16));
        for (int i = 4000; i < 4008; i++) delta.set(ValueLayout.JAVA_BYTE, i, (byte) (0xe0 + i - 4000));
        byte[] out = new byte[PAGE];
        int n = XorRle.encode(delta, out, 0, PAGE);
        assertThat(HexFormat.of().formatHex(out, 0, n)).isEqualTo("0f00" + "0380d0d1d2d3" + "8b0f" + "0780e0e1e2e3e4e5e6e7");
    }

    @Test
    void shouldKeepShortZeroGapsInsideALiteral() {
        MemorySegment delta = arena.allocate(PAGE);
        delta.set(ValueLayout.JAVA_BYTE, 100, (byte) 1);
        delta.set(ValueLayout.JAVA_BYTE, 105, (byte) 1); // gap of 4: one literal 100..105
        delta.set(ValueLayout.JAVA_BYTE, 200, (byte) 1); // gap of 94: a skip and a second literal
        byte[] out = new byte[PAGE];
        int n = XorRle.encode(delta, out, 0, PAGE);
        assertThat(HexFormat.of().formatHex(out, 0, n)).isEqualTo("6300" + "0580" + "010000000001" + "5d00" + "0080" + "01");
    }

    // ---- malformed payloads -----------------------------------------------------------------

    private MemorySegment oldPage() {
        MemorySegment p = arena.allocate(PAGE);
        fill(p, new Random(3), 0);
        return p;
    }

    private void refused(PageEncoding e, byte[] payload, String message) {
        MemorySegment target = oldPage();
        MemorySegment before = arena.allocate(PAGE);
        before.copyFrom(target);
        assertThatThrownBy(() -> new PageDecoder().decode(e, payload, 0, payload.length, target))
                .isInstanceOf(PageFormatException.class).hasMessageContaining(message);
        assertThat(target.mismatch(before)).as("target untouched").isEqualTo(-1L);
    }

    @Test
    void shouldRefuseXorRleRunsPastThePageOrCutShortOrWithReservedBits() {
        refused(PageEncoding.XOR_RLE, hex("ff0f" + "0080aa"), "ends at page octet 4097, past 4096");     // skip 4096 then literal 1
        refused(PageEncoding.XOR_RLE, hex("0380" + "aabb"), "literal of 4 octets at payload octet 0 is cut short");
        refused(PageEncoding.XOR_RLE, hex("0010"), "reserved bits set");
        refused(PageEncoding.XOR_RLE, hex("0300" + "00"), "run header cut short at payload octet 2");
        refused(PageEncoding.XOR_RLE, new byte[PAGE + 1], "payload of 4097 octets is not allowed");
    }

    @Test
    void shouldRefuseLz4ThatIsGarbageOrNotExactlyOnePage() {
        LZ4Compressor c = LZ4Factory.safeInstance().fastCompressor();
        byte[] src = new byte[PAGE + 1];
        for (int i = 0; i < src.length; i++) src[i] = (byte) (i % 251); // compressible, so every case fits 4096
        byte[] buf = new byte[c.maxCompressedLength(PAGE + 1)];
        int shortLen = c.compress(src, 0, PAGE - 1, buf, 0, buf.length);
        refused(PageEncoding.LZ4, java.util.Arrays.copyOf(buf, shortLen), "decompresses to 4095 octets, not 4096");
        int longLen = c.compress(src, 0, PAGE + 1, buf, 0, buf.length);
        refused(PageEncoding.LZ4, java.util.Arrays.copyOf(buf, Math.min(longLen, PAGE)), "does not decompress");
        int okLen = c.compress(src, 0, PAGE, buf, 0, buf.length);
        refused(PageEncoding.XOR_LZ4, java.util.Arrays.copyOf(buf, Math.min(okLen, PAGE) - 10), "does not decompress");
        refused(PageEncoding.LZ4, hex("ffffffffffffffff"), "does not decompress");
        refused(PageEncoding.LZ4, new byte[0], "payload of 0 octets is not allowed");
        refused(PageEncoding.RAW, new byte[100], "RAW payload of 100 octets is not allowed");
        refused(PageEncoding.ZERO, new byte[1], "ZERO payload of 1 octets is not allowed");
    }

    @Test
    void shouldRefuseRandomGarbageWithoutEverThrowingAnythingElse() {
        Random r = new Random(11);
        PageDecoder dec = new PageDecoder();
        MemorySegment target = arena.allocate(PAGE);
        for (int iter = 0; iter < 20_000; iter++) {
            byte[] junk = new byte[1 + r.nextInt(64)];
            r.nextBytes(junk);
            PageEncoding e = r.nextBoolean() ? PageEncoding.LZ4 : (r.nextBoolean() ? PageEncoding.XOR_LZ4 : PageEncoding.XOR_RLE);
            try {
                dec.decode(e, junk, 0, junk.length, target);
            } catch (PageFormatException expected) {
                // refused with a message: fine
            }
        }
    }

    private static byte[] hex(String s) {
        return HexFormat.of().parseHex(s);
    }
}
