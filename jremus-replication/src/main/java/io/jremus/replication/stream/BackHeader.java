package io.jremus.replication.stream;

import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * The back header (docs/stream-format.md §3.2): the backup's first octets, echoing the session
 * id of the stream header it accepted.
 */
public record BackHeader(UUID sessionId) {
    /** {@code 89 4A 52 45 4D 55 53 42}: 0x89 then "JREMUSB", as a little-endian u64. */
    public static final long MAGIC = 0x4253554D45524A89L;
    public static final int SIZE = 40;

    public BackHeader {
        Objects.requireNonNull(sessionId, "sessionId");
    }

    public byte[] encode() {
        byte[] b = new byte[SIZE];
        Le.put64(b, 0, MAGIC);
        Le.put16(b, 8, StreamHeader.VERSION);
        ByteBuffer.wrap(b, 16, 16).putLong(sessionId.getMostSignificantBits()).putLong(sessionId.getLeastSignificantBits());
        CRC32C crc = new CRC32C();
        crc.update(b, 0, 32);
        Le.put32(b, 32, (int) crc.getValue());
        return b;
    }

    /** Decodes and validates; {@code expected} is the session id of the stream header sent. */
    static BackHeader decode(byte[] b, UUID expected) throws StreamException {
        long magic = Le.i64(b, 0);
        if (magic != MAGIC) {
            throw StreamException.atOffset(StreamException.Kind.HEADER, 0,
                    String.format("bad magic 0x%016x, expected 0x%016x (not a jremus back channel)", magic, MAGIC));
        }
        int version = Le.u16(b, 8);
        if (version != StreamHeader.VERSION) {
            throw StreamException.atOffset(StreamException.Kind.HEADER, 8, "back channel version " + version + ", expected " + StreamHeader.VERSION);
        }
        CRC32C crc = new CRC32C();
        crc.update(b, 0, 32);
        int want = (int) crc.getValue();
        int got = Le.i32(b, 32);
        if (want != got) {
            throw StreamException.atOffset(StreamException.Kind.HEADER, 32, String.format("header CRC mismatch 0x%08x != 0x%08x", got, want));
        }
        if (Le.u16(b, 10) != 0 || Le.i32(b, 12) != 0 || Le.i32(b, 36) != 0) {
            throw StreamException.atOffset(StreamException.Kind.HEADER, 10, "reserved field not zero");
        }
        ByteBuffer be = ByteBuffer.wrap(b, 16, 16);
        UUID session = new UUID(be.getLong(), be.getLong());
        if (expected != null && !expected.equals(session)) {
            throw StreamException.atOffset(StreamException.Kind.MISMATCH, 16, "back channel for session " + session + ", expected " + expected);
        }
        return new BackHeader(session);
    }
}
