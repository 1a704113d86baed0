package io.jremus.replication.stream;

import io.jremus.replication.stream.page.PageEncoding;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.Objects;
import java.util.UUID;
import java.util.zip.CRC32C;

import static io.jremus.replication.stream.StreamException.Kind;

/**
 * Reads one direction of a replication session and refuses anything docs/stream-format.md does
 * not allow (§8): every octet is untrusted. Per record it checks, in this order: the length
 * against the limit, the CRC, the type (unknown mandatory types are refused, unknown optional ones
 * skipped), the direction, the length the type requires, the padding, the body's fields, and the
 * record's place in the legal order (§7), including epoch numbers and CHECKPOINT_END's counts.
 * A refusal is a {@link StreamException} naming the record, its offset and the values; after one,
 * the reader is dead and throws the same exception again.
 *
 * <p>{@link #next()} returns a {@link RecordView} over the reader's own buffer, valid until the
 * next call. Nothing is allocated per record or per page. Not thread-safe.
 */
public final class RecordReader {
    private interface Source {
        /** Reads up to len octets; -1 at end of stream. */
        int read(byte[] b, int off, int len) throws IOException;
    }

    private enum Phase { HEADER, SEED, IN_EPOCH, BETWEEN, ENDED }

    private final Source source;
    private final StreamDirection direction;
    private final StreamLimits limits;
    private final byte[] buf;
    private final CRC32C crc = new CRC32C();
    private final RecordView view;

    private StreamHeader header;
    private long offset;
    private long index;
    private long skippedOptional;
    private StreamException failure;

    private Phase phase = Phase.HEADER;
    private int nextRound;
    private long epoch;
    private long lastClosedEpoch;
    private boolean anyEpochClosed;
    private int epochRecords;
    private int epochPages;
    private long lastAck = Long.MIN_VALUE;
    private boolean anyAck;
    private long lastHeartbeat;
    private boolean anyHeartbeat;

    private RecordReader(Source source, StreamDirection direction, StreamLimits limits) {
        this.source = source;
        this.direction = Objects.requireNonNull(direction, "direction");
        this.limits = Objects.requireNonNull(limits, "limits");
        this.buf = new byte[(int) Le.align8(12L + limits.maxRecordBody())];
        this.view = new RecordView(buf);
    }

    /** A reader of {@code direction} over a blocking stream (for example an SSLSocket's). */
    public static RecordReader of(InputStream in, StreamDirection direction, StreamLimits limits) {
        Objects.requireNonNull(in, "in");
        return new RecordReader(in::read, direction, limits);
    }

    /** A reader of {@code direction} over a blocking channel. */
    public static RecordReader of(ReadableByteChannel ch, StreamDirection direction, StreamLimits limits) {
        Objects.requireNonNull(ch, "ch");
        return new RecordReader(new Source() {
            private ByteBuffer view;
            private byte[] viewOf;

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (viewOf != b) {
                    view = ByteBuffer.wrap(b);
                    viewOf = b;
                }
                view.limit(off + len).position(off);
                return ch.read(view);
            }
        }, direction, limits);
    }

    // ---- headers ---------------------------------------------------------------------------

    /** Reads and validates the stream header (forward direction). */
    public StreamHeader readHeader() throws IOException {
        requirePhase(StreamDirection.FORWARD);
        byte[] prefix = new byte[StreamHeader.PREFIX];
        readHeaderBytes(prefix, 0, prefix.length);
        int size = StreamHeader.checkPrefix(prefix);
        byte[] all = new byte[size];
        System.arraycopy(prefix, 0, all, 0, prefix.length);
        readHeaderBytes(all, prefix.length, size - prefix.length);
        header = fail(() -> StreamHeader.decode(all));
        phase = Phase.SEED;
        return header;
    }

    /** Reads and validates the back header (back direction); {@code expectedSession} is the session sent. */
    public BackHeader readBackHeader(UUID expectedSession) throws IOException {
        requirePhase(StreamDirection.BACK);
        byte[] b = new byte[BackHeader.SIZE];
        readHeaderBytes(b, 0, b.length);
        BackHeader h = fail(() -> BackHeader.decode(b, expectedSession));
        phase = Phase.BETWEEN;
        return h;
    }

    private void requirePhase(StreamDirection d) {
        if (direction != d) {
            throw new IllegalStateException("this reader reads the " + direction + " direction");
        }
        if (phase != Phase.HEADER) {
            throw new IllegalStateException("header already read");
        }
    }

    private void readHeaderBytes(byte[] b, int off, int len) throws IOException {
        int n = readUpTo(b, off, len);
        if (n < len) {
            throw failed(StreamException.atOffset(Kind.TRUNCATED, offset,
                    "stream ended inside the header after " + offset + " octets"));
        }
    }

    // ---- records ---------------------------------------------------------------------------

    /**
     * The next record, validated. HEARTBEAT and ERROR are returned like any other record. Returns
     * null only at a clean end of stream after STREAM_END or ERROR; any other end is
     * {@link Kind#TRUNCATED}.
     */
    public RecordView next() throws IOException {
        if (failure != null) {
            throw failure;
        }
        if (phase == Phase.HEADER) {
            throw new IllegalStateException("read the header first");
        }
        while (true) {
            long start = offset;
            int n = readUpTo(buf, 0, 8);
            if (n == 0) {
                if (phase == Phase.ENDED) {
                    return null;
                }
                throw failed(StreamException.atOffset(Kind.TRUNCATED, start, "stream ended after record " + (index - 1) + " " + where()));
            }
            if (phase == Phase.ENDED) {
                throw failed(StreamException.atOffset(Kind.ORDER, start, "data after the stream's last record " + (index - 1)));
            }
            int code = Le.i32(buf, 0);
            long len = Le.u32(buf, 4);
            String name = RecordType.describe(code);
            if (n < 8) {
                throw failed(StreamException.atRecord(Kind.TRUNCATED, index, name, start, "stream ended inside the record header (" + n + " of 8 octets) " + where()));
            }
            if (len > limits.maxRecordBody()) {
                throw failed(StreamException.atRecord(Kind.LENGTH, index, name, start,
                        "body length " + len + " exceeds the limit of " + limits.maxRecordBody()));
            }
            int total = (int) Le.align8(12 + len);
            int got = readUpTo(buf, 8, total - 8);
            if (got < total - 8) {
                throw failed(StreamException.atRecord(Kind.TRUNCATED, index, name, start,
                        "stream ended inside the record: " + (8 + got) + " of " + total + " octets " + where()));
            }
            int body = (int) len;
            crc.reset();
            crc.update(buf, 0, 8 + body);
            int want = (int) crc.getValue();
            int have = Le.i32(buf, 8 + body);
            if (want != have) {
                throw failed(StreamException.atRecord(Kind.CRC, index, name, start, String.format("CRC mismatch 0x%08x != 0x%08x", have, want)));
            }
            for (int i = 12 + body; i < total; i++) {
                if (buf[i] != 0) {
                    throw failed(StreamException.atRecord(Kind.MALFORMED, index, name, start, "padding octet " + (i - 12 - body) + " not zero"));
                }
            }
            RecordType type = RecordType.fromCode(code);
            view.reset(type, code, body, index, start);
            if (type == null) {
                if (!RecordType.isOptional(code)) {
                    throw failed(StreamException.atRecord(Kind.UNKNOWN_TYPE, index, name, start, "unknown mandatory record type; this receiver cannot skip it"));
                }
                if (phase == Phase.IN_EPOCH) {
                    epochRecords++;
                }
                skippedOptional++;
                index++;
                continue;
            }
            check(type, body, start);
            index++;
            return view;
        }
    }

    private void check(RecordType type, int len, long start) throws StreamException {
        if (!type.allowedIn(direction)) {
            throw bad(Kind.ORDER, type, start, type + " is not allowed in the " + direction + " direction");
        }
        if (len < type.minBody() || len > type.maxBody()) {
            throw bad(Kind.LENGTH, type, start, "body length " + len + " not in " + type.minBody() + ".."
                    + (type.maxBody() == Integer.MAX_VALUE ? "limit" : type.maxBody()));
        }
        switch (type) {
            case CHECKPOINT_BEGIN -> {
                long e = Le.i64(buf, 8);
                if (phase == Phase.IN_EPOCH) {
                    throw bad(Kind.ORDER, type, start, "CHECKPOINT_BEGIN(" + e + ") inside epoch " + epoch + ", which has no CHECKPOINT_END");
                }
                long expected = anyEpochClosed ? lastClosedEpoch + 1 : header.startEpoch();
                if (e != expected) {
                    String how = e < expected ? (anyEpochClosed ? "goes backwards or repeats" : "precedes the session's start epoch")
                            : "skips epochs";
                    throw bad(Kind.EPOCH, type, start, "epoch " + e + " " + how + ": expected " + expected
                            + (anyEpochClosed ? " after epoch " + lastClosedEpoch : " (start_epoch)"));
                }
                phase = Phase.IN_EPOCH;
                epoch = e;
                epochRecords = 0;
                epochPages = 0;
            }
            case CHECKPOINT_END -> {
                long e = Le.i64(buf, 8);
                long records = Le.u32(buf, 16);
                long pages = Le.u32(buf, 20);
                if (phase != Phase.IN_EPOCH) {
                    throw bad(Kind.ORDER, type, start, "CHECKPOINT_END(" + e + ") with no open epoch " + where());
                }
                if (e != epoch) {
                    throw bad(Kind.EPOCH, type, start, "CHECKPOINT_END(" + e + ") does not close the open epoch " + epoch);
                }
                if (records != epochRecords || pages != epochPages) {
                    throw bad(Kind.EPOCH, type, start, "epoch " + e + " announces " + records + " records and " + pages
                            + " pages, received " + epochRecords + " records and " + epochPages + " pages");
                }
                phase = Phase.BETWEEN;
                lastClosedEpoch = e;
                anyEpochClosed = true;
            }
            case PAGE_DATA -> {
                requireData(type, start);
                int count = checkPages(len, start);
                if (phase == Phase.IN_EPOCH) {
                    epochPages += count;
                }
            }
            case VCPU_STATE, VM_STATE, DEVICE_STATE -> {
                if (phase != Phase.IN_EPOCH) {
                    throw bad(Kind.ORDER, type, start, type + " outside an epoch " + where());
                }
                reservedZero(type, start, 12, 4);
                if (type == RecordType.VM_STATE && Le.i32(buf, 8) != 0) {
                    throw bad(Kind.MALFORMED, type, start, "VM_STATE id " + Le.u32(buf, 8) + " is reserved (must be 0)");
                }
            }
            case DISK_WRITE -> {
                requireData(type, start);
                long n = Le.u32(buf, 12);
                if (n != len - 16 || n % 512 != 0) {
                    throw bad(Kind.LENGTH, type, start, "data length " + n + " in a body of " + len
                            + " octets (must be body length − 16 and a multiple of 512)");
                }
                if (Le.i64(buf, 16) < 0) {
                    throw bad(Kind.MALFORMED, type, start, "sector " + Long.toUnsignedString(Le.i64(buf, 16)) + " out of range");
                }
            }
            case PRECOPY_ROUND -> {
                long r = Le.u32(buf, 8);
                if (phase != Phase.SEED) {
                    throw bad(Kind.ORDER, type, start, "PRECOPY_ROUND(" + r + ") after seeding ended " + where());
                }
                if (r != nextRound) {
                    throw bad(Kind.ORDER, type, start, "pre-copy round " + r + ", expected round " + nextRound);
                }
                reservedZero(type, start, 12, 4);
                nextRound++;
            }
            case STREAM_END -> {
                if (phase == Phase.IN_EPOCH) {
                    throw bad(Kind.ORDER, type, start, "STREAM_END inside epoch " + epoch);
                }
                phase = Phase.ENDED;
            }
            case DISK_STATE -> {
                if (anyAck || anyHeartbeat) {
                    throw bad(Kind.ORDER, type, start, "DISK_STATE after the back channel's first ACK or HEARTBEAT");
                }
                long count = Le.u32(buf, 12);
                if (len != 40 + 8 * count) {
                    throw bad(Kind.LENGTH, type, start, count + " extents in a body of " + len + " octets (must be 40 + 8 × count)");
                }
                long synced = Le.i64(buf, 16);
                long extent = Le.i64(buf, 40);
                if (synced < -1 || extent < 4096 || Long.bitCount(extent) != 1) {
                    throw bad(Kind.MALFORMED, type, start, "synced epoch " + synced + " or extent size " + extent + " out of range");
                }
                long prev = -1;
                for (int i = 0; i < count; i++) {
                    long x = Le.i64(buf, 48 + 8 * i);
                    if (x <= prev) throw bad(Kind.MALFORMED, type, start, "extent " + x + " at index " + i + " not ascending");
                    prev = x;
                }
            }
            case DISK_RESYNC -> {
                if (phase != Phase.SEED || nextRound == 0) {
                    throw bad(Kind.ORDER, type, start, "DISK_RESYNC outside a pre-copy round " + where());
                }
                long mode = Le.u32(buf, 12);
                long since = Le.i64(buf, 16);
                if (mode > 1 || since < -1 || Le.i64(buf, 40) < 0 || Le.i64(buf, 48) < 0) {
                    throw bad(Kind.MALFORMED, type, start, "mode " + mode + ", since epoch " + since + " or sizes out of range");
                }
            }
            case ACK -> {
                long e = Le.i64(buf, 8);
                if (anyAck && e <= lastAck) {
                    throw bad(Kind.EPOCH, type, start, "ACK(" + e + ") after ACK(" + lastAck + "): acknowledged epochs must go up");
                }
                anyAck = true;
                lastAck = e;
            }
            case HEARTBEAT -> {
                long seq = Le.i64(buf, 8);
                if (anyHeartbeat && Long.compareUnsigned(seq, lastHeartbeat) <= 0) {
                    throw bad(Kind.ORDER, type, start, "heartbeat seq " + Long.toUnsignedString(seq) + " after " + Long.toUnsignedString(lastHeartbeat));
                }
                anyHeartbeat = true;
                lastHeartbeat = seq;
            }
            case ERROR -> {
                long m = Le.u32(buf, 12);
                if (m != len - 8) {
                    throw bad(Kind.LENGTH, type, start, "message length " + m + " in a body of " + len + " octets");
                }
                if (!view.messageIsUtf8()) {
                    throw bad(Kind.MALFORMED, type, start, "message is not UTF-8");
                }
                phase = Phase.ENDED;
            }
        }
        if (phase == Phase.IN_EPOCH && type != RecordType.CHECKPOINT_BEGIN && type != RecordType.HEARTBEAT) {
            epochRecords++;
        }
    }

    /** PAGE_DATA and DISK_WRITE belong to a pre-copy round or an epoch. */
    private void requireData(RecordType type, long start) throws StreamException {
        boolean ok = phase == Phase.IN_EPOCH || (phase == Phase.SEED && nextRound > 0);
        if (!ok) {
            throw bad(Kind.ORDER, type, start, type + " outside a pre-copy round or an epoch " + where());
        }
    }

    /** Walks the PAGE_DATA entries (§5.3); returns the count. */
    private int checkPages(int len, long start) throws StreamException {
        RecordType t = RecordType.PAGE_DATA;
        long count = Le.u32(buf, 8);
        if (count < 1 || count > limits.maxPagesPerRecord()) {
            throw bad(Kind.LENGTH, t, start, "page count " + count + " not in 1.." + limits.maxPagesPerRecord());
        }
        reservedZero(t, start, 12, 4);
        int end = 8 + len;
        int p = 16;
        for (int i = 0; i < count; i++) {
            if (p + StreamLimits.PAGE_ENTRY_HEADER > end) {
                throw bad(Kind.LENGTH, t, start, "page " + i + " of " + count + ": entry header at body octet " + (p - 8) + " runs past the body (" + len + " octets)");
            }
            long gfn = Le.i64(buf, p);
            int code = Le.u16(buf, p + 8);
            int reserved = Le.u16(buf, p + 10);
            long plen = Le.u32(buf, p + 12);
            PageEncoding enc = PageEncoding.fromCode(code);
            if (enc == null) {
                throw bad(Kind.MALFORMED, t, start, String.format("page %d (gfn 0x%x): unknown encoding %d", i, gfn, code));
            }
            if (reserved != 0) {
                throw bad(Kind.MALFORMED, t, start, String.format("page %d (gfn 0x%x): reserved field 0x%04x not zero", i, gfn, reserved));
            }
            if (plen > StreamHeader.PAGE_SIZE || !enc.lengthAllowed((int) plen)) {
                throw bad(Kind.LENGTH, t, start, String.format("page %d (gfn 0x%x): %s payload of %d octets not allowed", i, gfn, enc, plen));
            }
            if (!header.containsFrame(gfn)) {
                throw bad(Kind.MALFORMED, t, start, String.format("page %d: gfn 0x%x is outside guest RAM %s", i, gfn, header.regions()));
            }
            int payloadEnd = p + StreamLimits.PAGE_ENTRY_HEADER + (int) plen;
            int next = (int) Le.align8(payloadEnd);
            if (next > end) {
                throw bad(Kind.LENGTH, t, start, String.format("page %d (gfn 0x%x): payload of %d octets runs past the body (%d octets)", i, gfn, plen, len));
            }
            for (int q = payloadEnd; q < next; q++) {
                if (buf[q] != 0) {
                    throw bad(Kind.MALFORMED, t, start, String.format("page %d (gfn 0x%x): padding not zero", i, gfn));
                }
            }
            p = next;
        }
        if (p != end) {
            throw bad(Kind.LENGTH, t, start, count + " pages fill " + (p - 8) + " octets of a " + len + "-octet body");
        }
        return (int) count;
    }

    private void reservedZero(RecordType type, long start, int at, int n) throws StreamException {
        for (int i = at; i < at + n; i++) {
            if (buf[i] != 0) {
                throw bad(Kind.MALFORMED, type, start, "reserved field at body octet " + (at - 8) + " not zero");
            }
        }
    }

    private String where() {
        return switch (phase) {
            case HEADER -> "(in the header)";
            case SEED -> nextRound == 0 ? "(before the first pre-copy round)" : "(during pre-copy round " + (nextRound - 1) + ")";
            case IN_EPOCH -> "(inside epoch " + epoch + ")";
            case BETWEEN -> anyEpochClosed ? "(after epoch " + lastClosedEpoch + ")" : "(between records)";
            case ENDED -> "(after the last record)";
        };
    }

    private StreamException bad(Kind kind, RecordType type, long start, String detail) {
        return failed(StreamException.atRecord(kind, index, type.name(), start, detail));
    }

    private StreamException failed(StreamException e) {
        failure = e;
        return e;
    }

    private interface Check<T> {
        T get() throws StreamException;
    }

    private <T> T fail(Check<T> c) throws StreamException {
        try {
            return c.get();
        } catch (StreamException e) {
            throw failed(e);
        }
    }

    private int readUpTo(byte[] b, int off, int len) throws IOException {
        int done = 0;
        while (done < len) {
            int n = source.read(b, off + done, len - done);
            if (n < 0) {
                break;
            }
            done += n;
        }
        offset += done;
        return done;
    }

    // ---- state -----------------------------------------------------------------------------

    /** The stream header read, or null. */
    public StreamHeader header() {
        return header;
    }

    /** Octets consumed so far. */
    public long offset() {
        return offset;
    }

    /** Records read so far (including skipped optional ones). */
    public long recordsRead() {
        return index;
    }

    /** Unknown optional records skipped so far. */
    public long skippedOptional() {
        return skippedOptional;
    }

    /** Whether an epoch is open: a failure now must discard it. */
    public boolean inEpoch() {
        return phase == Phase.IN_EPOCH;
    }

    /** The open epoch (if {@link #inEpoch()}), else the last closed one. */
    public long epoch() {
        return phase == Phase.IN_EPOCH ? epoch : lastClosedEpoch;
    }
}
