package io.jremus.replication.stream;

import java.io.IOException;

/**
 * The stream was refused: the peer sent something that docs/stream-format.md does not allow
 * (§8), or the peer failed authentication. The message names the record (its index counting from
 * 0 after the header, its type and its stream offset) and the values, e.g.
 * {@code record 17 (PAGE_DATA) at offset 81920: CRC mismatch 0x00001234 != 0x00005678}.
 *
 * <p>Every kind means the same to a receiver: discard the open epoch, keep the committed image,
 * end the session (send ERROR with {@link Kind#errorCode()} if the link still works). Plain
 * {@link IOException}s (connection reset, timeout) are link failures, not refusals.
 */
public final class StreamException extends IOException {
    /** What was wrong. The codes are stable (logs, metrics). */
    public enum Kind {
        /** 1: a header is invalid: magic, version, page size, regions, header CRC, reserved fields. */
        HEADER(1),
        /** 2: the header is valid but not for this receiver: config digest, memory layout, session id. */
        MISMATCH(2),
        /** 3: a record's CRC32C does not match. */
        CRC(3),
        /** 4: a length beyond the receiver's limit or not what the record type requires. */
        LENGTH(4),
        /** 5: the stream ended inside a header or a record, or without STREAM_END. */
        TRUNCATED(5),
        /** 6: a record where the legal order (§7) does not allow it. */
        ORDER(6),
        /** 7: an epoch going backwards, repeating or skipping, or a CHECKPOINT_END that does not close it. */
        EPOCH(7),
        /** 8: a mandatory record type this receiver does not know. */
        UNKNOWN_TYPE(8),
        /** 9: a field with a value the format forbids: reserved bits, padding, page encoding, GFN, payload. */
        MALFORMED(9),
        /** 10: the peer failed TLS authentication. */
        AUTH(10);

        private final int code;

        Kind(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }

        /** The ERROR record code (§5.10) a receiver sends for this kind. */
        public int errorCode() {
            return this == MISMATCH ? ErrorCodes.CONFIG_MISMATCH : ErrorCodes.STREAM_INVALID;
        }
    }

    private final Kind kind;
    private final long recordIndex;
    private final long offset;

    public StreamException(Kind kind, String message) {
        this(kind, -1, -1, message, null);
    }

    public StreamException(Kind kind, String message, Throwable cause) {
        this(kind, -1, -1, message, cause);
    }

    private StreamException(Kind kind, long recordIndex, long offset, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.recordIndex = recordIndex;
        this.offset = offset;
    }

    /** A refusal of record {@code index} of type {@code typeName}, which starts at stream {@code offset}. */
    public static StreamException atRecord(Kind kind, long index, String typeName, long offset, String detail) {
        return new StreamException(kind, index, offset,
                "record " + index + " (" + typeName + ") at offset " + offset + ": " + detail, null);
    }

    /** A refusal at a stream offset outside any record (a header, or the end of the stream). */
    public static StreamException atOffset(Kind kind, long offset, String detail) {
        return new StreamException(kind, -1, offset, "at offset " + offset + ": " + detail, null);
    }

    public Kind kind() {
        return kind;
    }

    /** The index of the record refused, counting from 0 after the header, or -1. */
    public long recordIndex() {
        return recordIndex;
    }

    /** The stream offset of the record or header refused, or -1. */
    public long offset() {
        return offset;
    }
}
