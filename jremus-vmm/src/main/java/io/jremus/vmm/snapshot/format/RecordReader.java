package io.jremus.vmm.snapshot.format;

import io.jremus.vmm.snapshot.SnapshotException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * Reads framed records from a snapshot file, trusting nothing: the preamble's magic and
 * version, each record's type (unknown mandatory types are refused, unknown optional ones
 * skipped), its length (bounded by the type's maximum before anything is read), the reserved
 * word and the pad (zero), the CRC32C, and the end of the file. Errors name the file, the
 * record's type, its index and its byte offset.
 */
final class RecordReader implements AutoCloseable {
    private final String name;
    private final FileChannel in;
    private final long size;
    private final ByteBuffer header = ByteBuffer.allocate(RecordWriter.RECORD_HEADER).order(ByteOrder.LITTLE_ENDIAN);
    private ByteBuffer body = ByteBuffer.allocateDirect(64 * 1024).order(ByteOrder.LITTLE_ENDIAN);
    private final CRC32C crc = new CRC32C();
    private long offset;
    private int index = -1;
    private RecordType type;
    private long recordOffset;

    RecordReader(String name, FileChannel in) throws SnapshotException {
        this.name = name;
        this.in = in;
        try {
            this.size = in.size();
        } catch (IOException e) {
            throw new SnapshotException(SnapshotException.Kind.IO, name + ": " + e.getMessage(), e);
        }
        ByteBuffer pre = ByteBuffer.allocate(RecordWriter.PREAMBLE).order(ByteOrder.LITTLE_ENDIAN);
        if (size < RecordWriter.PREAMBLE) throw corrupt("truncated: " + size + " bytes, not even a preamble");
        readFully(pre, "the preamble");
        byte[] magic = new byte[8];
        pre.get(magic);
        if (!Arrays.equals(magic, RecordWriter.MAGIC)) {
            throw corrupt("not a jremus snapshot: bad magic " + java.util.HexFormat.of().formatHex(magic) + " (want "
                    + java.util.HexFormat.of().formatHex(RecordWriter.MAGIC) + ")");
        }
        int version = pre.getInt();
        int reserved = pre.getInt();
        if (version != RecordWriter.VERSION) {
            throw new SnapshotException(SnapshotException.Kind.MISMATCH, name + ": snapshot format version " + version
                    + " is not supported (this jremus reads version " + RecordWriter.VERSION + ")");
        }
        if (reserved != 0) throw corrupt("preamble reserved word is 0x" + Integer.toHexString(reserved));
    }

    String name() {
        return name;
    }

    /** Offset of the next record; {@link #seek} returns here. */
    long offset() {
        return offset;
    }

    void seek(long off, int recordIndex) {
        offset = off;
        index = recordIndex - 1;
    }

    int index() {
        return index;
    }

    /**
     * Reads the next record and checks it. Returns its type; the body is {@link #body()} until
     * the next call.
     */
    RecordType next() throws SnapshotException {
        while (true) {
            index++;
            recordOffset = offset;
            if (offset == size) throw corrupt("truncated: the file ends after record #" + (index - 1) + " without an END record");
            if (size - offset < RecordWriter.RECORD_HEADER) throw corrupt("truncated: record #" + index + " at offset " + offset + " has no complete header");
            header.clear();
            readFully(header, "record #" + index);
            int code = header.getInt(0);
            int len = header.getInt(4);
            int crcWant = header.getInt(8);
            int reserved = header.getInt(12);
            RecordType t = RecordType.of(code);
            String what = RecordType.describe(code) + " #" + index + " at offset " + recordOffset;
            boolean optional = (code & RecordType.OPTIONAL_BIT) != 0;
            if (t == null && !optional) throw corrupt("record " + what + ": unknown mandatory record type");
            long max = t != null ? t.maxLength() : 16L << 20;
            if (len < 0 || len > max) throw corrupt("record " + what + ": length " + Integer.toUnsignedString(len) + " exceeds " + max);
            if (reserved != 0) throw corrupt("record " + what + ": reserved word is 0x" + Integer.toHexString(reserved));
            int padded = (len + 7) & ~7;
            if (size - offset < padded) {
                throw corrupt("truncated: record " + what + " needs " + padded + " bytes, the file has " + (size - offset) + " left");
            }
            if (t == null) { // optional and unknown: skip
                offset += padded;
                continue;
            }
            if (body.capacity() < padded) body = ByteBuffer.allocateDirect(Math.max(padded, body.capacity() * 2)).order(ByteOrder.LITTLE_ENDIAN);
            body.clear().limit(padded);
            readFully(body, "record " + what);
            crc.reset();
            crc.update(header.slice(0, 8));
            crc.update(body.slice(0, len));
            if ((int) crc.getValue() != crcWant) {
                throw corrupt("record " + what + ": CRC32C 0x" + Integer.toHexString((int) crc.getValue()) + " does not match the stored 0x"
                        + Integer.toHexString(crcWant) + " (the record is corrupt)");
            }
            for (int i = len; i < padded; i++) {
                if (body.get(i) != 0) throw corrupt("record " + what + ": non-zero padding");
            }
            body.limit(len);
            type = t;
            return t;
        }
    }

    /** The current record's body (little-endian, position 0). */
    ByteBuffer body() {
        return body.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    byte[] bodyBytes() {
        byte[] b = new byte[body.limit()];
        body.duplicate().get(b);
        return b;
    }

    /** "VCPU_STATE #4 at offset 2048": for messages about the current record. */
    String where() {
        return type + " #" + index + " at offset " + recordOffset;
    }

    /** After END: the file must end here. */
    void expectEof() throws SnapshotException {
        if (offset != size) throw corrupt((size - offset) + " bytes after the END record");
    }

    SnapshotException corrupt(String m) {
        return new SnapshotException(SnapshotException.Kind.CORRUPT, name + ": " + m);
    }

    private void readFully(ByteBuffer b, String what) throws SnapshotException {
        try {
            while (b.hasRemaining()) {
                int n = in.read(b, offset);
                if (n < 0) throw corrupt("truncated inside " + what);
                offset += n;
            }
            b.flip();
        } catch (IOException e) {
            throw new SnapshotException(SnapshotException.Kind.IO, name + ": reading " + what + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
