package io.jremus.replication.stream;

import io.jremus.replication.stream.page.PageEncoder;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;

/** Shared helpers: a small VM layout, writers into memory, readers over byte arrays. */
final class StreamFixtures {
    static final UUID SESSION = UUID.fromString("6f1c2a9e-0b7d-4c55-9a31-2f8e4d6b7c10");
    static final byte[] DIGEST = digest(7);
    /** Two regions: 1 MiB at 0 and 1 MiB at 4 GiB, GFNs 0..255 and 0x100000..0x1000ff. */
    static final List<StreamHeader.Region> REGIONS = List.of(
            new StreamHeader.Region(0, 1 << 20), new StreamHeader.Region(1L << 32, 1 << 20));
    static final long HIGH_GFN = (1L << 32) >> 12;
    /** Small limits so that corruption loops stay fast: 16 KiB records, 3 pages per batch. */
    static final StreamLimits SMALL = new StreamLimits(16 << 10, 3, 4096);

    private StreamFixtures() {
    }

    static byte[] digest(int seed) {
        byte[] d = new byte[32];
        new Random(seed).nextBytes(d);
        return d;
    }

    static StreamHeader header(long startEpoch) {
        return new StreamHeader(SESSION, startEpoch, DIGEST, REGIONS);
    }

    /** An in-memory writer. */
    static final class Out {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final RecordWriter w;

        Out(StreamLimits limits) {
            w = new RecordWriter(bytes, limits, PageEncoder.create(PageEncoder.Policy.SMALLEST));
        }

        byte[] done() throws IOException {
            w.flush();
            return bytes.toByteArray();
        }
    }

    static RecordReader forward(byte[] stream, StreamLimits limits) {
        return RecordReader.of(new ByteArrayInputStream(stream), StreamDirection.FORWARD, limits);
    }

    /** Reads a whole forward stream and returns the record types seen; throws what the reader throws. */
    static List<RecordType> readAll(byte[] stream, StreamLimits limits) throws IOException {
        RecordReader r = forward(stream, limits);
        r.readHeader();
        List<RecordType> types = new ArrayList<>();
        for (RecordView v; (v = r.next()) != null; ) {
            if (v.type() == RecordType.PAGE_DATA) {
                var pages = v.pages();
                while (pages.next()) {
                    pages.gfn();
                }
            }
            types.add(v.type());
        }
        return types;
    }

    static MemorySegment page(Arena arena, long seed) {
        MemorySegment p = arena.allocate(4096, 4096);
        Random r = new Random(seed);
        for (int i = 0; i < 4096; i += 8) {
            p.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, i, r.nextLong());
        }
        return p;
    }

    /**
     * A small but complete stream: header(start 5), a pre-copy round, epochs 5 and 6, STREAM_END.
     * Returns the bytes and, through {@code starts}, the offset of every record.
     */
    static byte[] sampleStream(List<Long> starts) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Out o = new Out(SMALL);
            RecordWriter w = o.w;
            MemorySegment a = page(arena, 1);
            MemorySegment b = page(arena, 2);
            MemorySegment zero = arena.allocate(4096);
            MemorySegment b2 = arena.allocate(4096);
            b2.copyFrom(b);
            b2.set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, 100, 0xCAFE);
            MemorySegment disk = arena.allocate(1024);
            disk.fill((byte) 0x5A);
            w.writeHeader(header(5));
            mark(o, starts);
            w.writePrecopyRound(0, 3);
            mark(o, starts);
            w.writePage(1, a, null);
            w.writePage(2, zero, null);
            w.writePage(HIGH_GFN, b, null);
            mark(o, starts);
            w.writeDiskWrite(0, 8, disk);
            mark(o, starts);
            w.beginCheckpoint(5);
            mark(o, starts);
            w.writePage(HIGH_GFN, b2, b);
            mark(o, starts);
            w.writeVcpuState(0, MemorySegment.ofArray(new byte[]{1, 2, 3, 4, 5}));
            mark(o, starts);
            w.writeVmState(MemorySegment.ofArray(new byte[]{9, 9}));
            mark(o, starts);
            w.writeDeviceState(3, MemorySegment.ofArray(new byte[0]));
            mark(o, starts);
            w.writeHeartbeat(1, 1000);
            mark(o, starts);
            w.writeDiskWrite(1, 64, disk.asSlice(0, 512));
            mark(o, starts);
            w.endCheckpoint();
            mark(o, starts);
            w.beginCheckpoint(6);
            mark(o, starts);
            w.endCheckpoint();
            mark(o, starts);
            w.writeStreamEnd();
            return o.done();
        }
    }

    private static void mark(Out o, List<Long> starts) throws IOException {
        if (starts != null) {
            o.w.flush();
            starts.add((long) o.bytes.size());
        }
    }
}
