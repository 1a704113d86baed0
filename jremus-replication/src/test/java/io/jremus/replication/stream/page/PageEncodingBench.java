package io.jremus.replication.stream.page;

import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

/**
 * A simple timing of page encoding and decoding on page kinds seen in guests (no JMH: warm up,
 * then time many pages; numbers are indicative). Run with
 * {@code java --enable-native-access=ALL-UNNAMED -cp ... io.jremus.replication.stream.page.PageEncodingBench}.
 * The wire ratio counts the 16-octet PAGE_DATA entry header and the entry padding.
 */
public final class PageEncodingBench {
    private static final int PAGE = 4096;
    private static final int PAGES = 2048;

    private enum Workload {
        RANDOM_UNCACHED, RANDOM_FEW_WORDS_CHANGED, ZERO, TEXT_UNCACHED, TEXT_FEW_WORDS_CHANGED, TEXT_HALF_REWRITTEN, SPARSE_UNCACHED
    }

    public static void main(String[] args) {
        boolean nativeToo = args.length > 0 && args[0].equals("--native");
        System.out.printf("%-26s %-9s %-7s %9s %9s %8s  %s%n", "workload", "policy", "lz4", "enc ns/pg", "dec ns/pg", "ratio", "encodings");
        for (Workload w : Workload.values()) {
            for (PageEncoder.Policy p : PageEncoder.Policy.values()) {
                run(w, p, "java", LZ4Factory.safeInstance().fastCompressor());
                if (nativeToo) {
                    run(w, p, "jni", LZ4Factory.nativeInstance().fastCompressor());
                }
            }
        }
    }

    private static void run(Workload w, PageEncoder.Policy policy, String lz4Name, LZ4Compressor lz4) {
        Arena arena = Arena.ofAuto();
        MemorySegment olds = arena.allocate((long) PAGES * PAGE, PAGE);
        MemorySegment news = arena.allocate((long) PAGES * PAGE, PAGE);
        Random r = new Random(1);
        boolean cached = prepare(w, olds, news, r);
        PageEncoder enc = new PageEncoder(policy, lz4);
        PageDecoder dec = new PageDecoder();
        byte[] out = new byte[PAGES * (PAGE + 16)];
        int[] lens = new int[PAGES];
        PageEncoding[] encs = new PageEncoding[PAGES];
        MemorySegment target = arena.allocate(PAGE);
        long bestEnc = Long.MAX_VALUE;
        long bestDec = Long.MAX_VALUE;
        long wire = 0;
        for (int round = 0; round < 30; round++) {
            PageEncoder e = new PageEncoder(policy, lz4);
            long t0 = System.nanoTime();
            int pos = 0;
            for (int i = 0; i < PAGES; i++) {
                MemorySegment n = news.asSlice((long) i * PAGE, PAGE);
                MemorySegment o = cached ? olds.asSlice((long) i * PAGE, PAGE) : null;
                encs[i] = e.encode(n, o, out, pos);
                lens[i] = e.length();
                pos += lens[i];
            }
            long t1 = System.nanoTime();
            bestEnc = Math.min(bestEnc, t1 - t0);
            pos = 0;
            long t2 = System.nanoTime();
            for (int i = 0; i < PAGES; i++) {
                MemorySegment.copy(olds, (long) i * PAGE, target, 0, PAGE);
                try {
                    dec.decode(encs[i], out, pos, lens[i], target);
                } catch (PageFormatException ex) {
                    throw new AssertionError(ex);
                }
                pos += lens[i];
            }
            long t3 = System.nanoTime();
            bestDec = Math.min(bestDec, t3 - t2);
            if (round == 0) {
                enc = e;
                wire = 0;
                for (int i = 0; i < PAGES; i++) {
                    wire += 16 + ((lens[i] + 7) & ~7);
                }
            }
        }
        StringBuilder mix = new StringBuilder();
        for (PageEncoding x : PageEncoding.values()) {
            if (enc.pages(x) > 0) {
                mix.append(x).append('=').append(100 * enc.pages(x) / PAGES).append("% ");
            }
        }
        System.out.printf("%-26s %-9s %-7s %9d %9d %7.1f:1  %s%n", w, policy, lz4Name, bestEnc / PAGES, bestDec / PAGES,
                (double) PAGES * PAGE / wire, mix.toString().trim());
    }

    /** Fills old and new copies; returns whether the encoder gets the old copy (cache hit). */
    private static boolean prepare(Workload w, MemorySegment olds, MemorySegment news, Random r) {
        for (int i = 0; i < PAGES; i++) {
            MemorySegment o = olds.asSlice((long) i * PAGE, PAGE);
            MemorySegment n = news.asSlice((long) i * PAGE, PAGE);
            switch (w) {
                case RANDOM_UNCACHED, RANDOM_FEW_WORDS_CHANGED -> PageCodecTest.fill(o, r, 0);
                case TEXT_UNCACHED, TEXT_FEW_WORDS_CHANGED, TEXT_HALF_REWRITTEN -> PageCodecTest.fill(o, r, 1);
                case SPARSE_UNCACHED -> PageCodecTest.fill(o, r, 2);
                case ZERO -> o.fill((byte) 0);
            }
            n.copyFrom(o);
            switch (w) {
                case RANDOM_FEW_WORDS_CHANGED, TEXT_FEW_WORDS_CHANGED -> {
                    for (int k = 0; k < 4; k++) {
                        n.set(ValueLayout.JAVA_LONG_UNALIGNED, r.nextInt(PAGE / 8) * 8L, r.nextLong());
                    }
                }
                case TEXT_HALF_REWRITTEN -> {
                    for (int k = 0; k < PAGE / 2; k++) {
                        int at = r.nextInt(PAGE);
                        n.set(ValueLayout.JAVA_BYTE, at, (byte) ('a' + r.nextInt(26)));
                    }
                }
                default -> {
                }
            }
        }
        return w == Workload.RANDOM_FEW_WORDS_CHANGED || w == Workload.TEXT_FEW_WORDS_CHANGED || w == Workload.TEXT_HALF_REWRITTEN;
    }
}
