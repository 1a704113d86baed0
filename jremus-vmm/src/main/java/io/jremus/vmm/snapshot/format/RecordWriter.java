package io.jremus.vmm.snapshot.format;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.zip.CRC32C;


/**
 * Writes the preamble and framed records ({@code u32 type, u32 length, u32 crc32c, u32 0, body,
 * zero pad to 8}) to a channel through one direct buffer, so page data goes from guest memory
 * to the file with one copy and no garbage. The CRC32C covers the type and length words and the
 * body, and is patched into the header once the body is in the buffer.
 */
final class RecordWriter implements AutoCloseable {
    static final byte[] MAGIC = {'J', 'R', 'S', 'N', 'A', 'P', '\r', '\n'};
    static final int VERSION = 1;
    static final int PREAMBLE = 16;
    static final int RECORD_HEADER = 16;
    private static final int BUFFER = 4 << 20;

    private final FileChannel out;
    private final ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER).order(ByteOrder.LITTLE_ENDIAN);
    private final MemorySegment bufSeg = MemorySegment.ofBuffer(buf);
    private final CRC32C crc = new CRC32C();
    private long written;

    RecordWriter(FileChannel out) {
        this.out = out;
        buf.put(MAGIC).putInt(VERSION).putInt(0);
    }

    /** Bytes handed to the file so far (records included once flushed). */
    long position() {
        return written + buf.position();
    }

    void record(RecordType type, byte[] body) throws IOException {
        int start = begin(type, body.length);
        buf.put(body);
        finish(start, body.length);
    }

    /**
     * A PAGE_DATA record: {@code u64 gpa, u32 count, u32 0} then {@code count} pages copied from
     * {@code pages} (a host view of guest RAM).
     */
    void pages(long gpa, MemorySegment pages, int count) throws IOException {
        int len = 16 + count * SnapshotHeader.PAGE_SIZE;
        int start = begin(RecordType.PAGE_DATA, len);
        buf.putLong(gpa).putInt(count).putInt(0);
        long bytes = (long) count * SnapshotHeader.PAGE_SIZE;
        MemorySegment.copy(pages, 0, bufSeg, buf.position(), bytes);
        buf.position(buf.position() + (int) bytes);
        finish(start, len);
    }

    private int begin(RecordType type, int len) throws IOException {
        if (len > type.maxLength()) throw new IllegalArgumentException(type + " body of " + len + " bytes exceeds " + type.maxLength());
        int need = RECORD_HEADER + len + 7;
        if (buf.remaining() < need) flush();
        int start = buf.position();
        buf.putInt(type.code()).putInt(len).putInt(0).putInt(0);
        return start;
    }

    private void finish(int start, int len) {
        crc.reset();
        crc.update(buf.slice(start, 8));
        crc.update(buf.slice(start + RECORD_HEADER, len));
        buf.putInt(start + 8, (int) crc.getValue());
        int pad = (8 - (len & 7)) & 7;
        for (int i = 0; i < pad; i++) buf.put((byte) 0);
    }

    void flush() throws IOException {
        buf.flip();
        while (buf.hasRemaining()) written += out.write(buf);
        buf.clear();
    }

    @Override
    public void close() throws IOException {
        flush();
    }

}
