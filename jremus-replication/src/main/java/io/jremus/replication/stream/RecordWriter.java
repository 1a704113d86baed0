package io.jremus.replication.stream;

import io.jremus.replication.stream.page.PageEncoder;
import io.jremus.replication.stream.page.PageEncoding;

import java.io.Flushable;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * Writes one direction of a replication session (docs/stream-format.md): a header, then records
 * framed as {@code type, length, body, CRC32C, padding}. Records are built in one reused buffer
 * and written out when it fills, on {@link #flush()}, at {@link #endCheckpoint()} and after every
 * back-channel record (ACK and HEARTBEAT are latency-critical).
 *
 * <p>Pages go through {@link #writePage}: the {@link PageEncoder} encodes each page straight into
 * the open PAGE_DATA record, which is closed when it holds {@code maxPagesPerRecord} pages or when
 * another record type is written. Nothing is allocated per page.
 *
 * <p>The writer counts what goes into an epoch for CHECKPOINT_END, and refuses obvious misuse
 * (END without BEGIN) with {@link IllegalStateException}; the full order rules are enforced by the
 * receiving {@link RecordReader}. Not thread-safe: one writer per connection direction.
 */
public final class RecordWriter implements Flushable {
    private interface Sink {
        void write(byte[] b, int off, int len) throws IOException;

        void flush() throws IOException;
    }

    private final Sink sink;
    private final StreamLimits limits;
    private final PageEncoder encoder;
    private final byte[] buf;
    private final CRC32C crc = new CRC32C();
    private final int maxDiskChunk;
    private int pos;
    private long flushed;
    private long records;

    private boolean headerWritten;
    private boolean epochOpen;
    private long epoch;
    private int epochRecords;
    private int epochPages;
    /** Start (in buf) of the open PAGE_DATA record, or -1. */
    private int pageRec = -1;
    private int pageCount;
    /** Body octets still expected for a streamed record, or -1 when none is open. */
    private long streamedLeft = -1;
    private int streamedType;

    public RecordWriter(OutputStream out, StreamLimits limits, PageEncoder encoder) {
        this(new Sink() {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void flush() throws IOException {
                out.flush();
            }
        }, limits, encoder);
        Objects.requireNonNull(out, "out");
    }

    public RecordWriter(WritableByteChannel out, StreamLimits limits, PageEncoder encoder) {
        this(channelSink(Objects.requireNonNull(out, "out")), limits, encoder);
    }

    private RecordWriter(Sink sink, StreamLimits limits, PageEncoder encoder) {
        this.sink = sink;
        this.limits = Objects.requireNonNull(limits, "limits");
        this.encoder = Objects.requireNonNull(encoder, "encoder");
        this.buf = new byte[Math.max(64 << 10, limits.maxPageDataBody() + 64)];
        this.maxDiskChunk = Math.min(limits.maxDiskWrite(), ((limits.maxRecordBody() - 16) / 512) * 512);
    }

    private static Sink channelSink(WritableByteChannel ch) {
        return new Sink() {
            private ByteBuffer view;
            private byte[] viewOf;

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (viewOf != b) {
                    view = ByteBuffer.wrap(b);
                    viewOf = b;
                }
                view.limit(off + len).position(off);
                while (view.hasRemaining()) {
                    ch.write(view);
                }
            }

            @Override
            public void flush() {
            }
        };
    }

    // ---- headers ---------------------------------------------------------------------------

    /** Starts the forward direction. */
    public void writeHeader(StreamHeader header) throws IOException {
        writeHeaderBytes(header.encode());
    }

    /** Starts the back direction. */
    public void writeBackHeader(BackHeader header) throws IOException {
        writeHeaderBytes(header.encode());
        flush();
    }

    private void writeHeaderBytes(byte[] h) throws IOException {
        if (headerWritten) {
            throw new IllegalStateException("header already written");
        }
        headerWritten = true;
        ensure(h.length);
        System.arraycopy(h, 0, buf, pos, h.length);
        pos += h.length;
    }

    // ---- seed and epochs -------------------------------------------------------------------

    /** Starts pre-copy round {@code round} of the seed (§5.6). */
    public void writePrecopyRound(int round, long pagesRemaining) throws IOException {
        int p = small(RecordType.PRECOPY_ROUND.code(), 16);
        Le.put32(buf, p, round);
        Le.put32(buf, p + 4, 0);
        Le.put64(buf, p + 8, pagesRemaining);
        finishSmall(RecordType.PRECOPY_ROUND.code(), 16);
    }

    /** Opens epoch {@code epoch} (§5.1). */
    public void beginCheckpoint(long epoch) throws IOException {
        if (epochOpen) {
            throw new IllegalStateException("epoch " + this.epoch + " is still open");
        }
        int p = small(RecordType.CHECKPOINT_BEGIN.code(), 8);
        Le.put64(buf, p, epoch);
        finishSmall(RecordType.CHECKPOINT_BEGIN.code(), 8);
        this.epochOpen = true;
        this.epoch = epoch;
        this.epochRecords = 0;
        this.epochPages = 0;
    }

    /** Closes the open epoch with its counts (§5.2) and flushes. */
    public void endCheckpoint() throws IOException {
        if (!epochOpen) {
            throw new IllegalStateException("no epoch is open");
        }
        closePages();
        epochOpen = false;
        int p = small(RecordType.CHECKPOINT_END.code(), 16);
        Le.put64(buf, p, epoch);
        Le.put32(buf, p + 8, epochRecords);
        Le.put32(buf, p + 12, epochPages);
        finishSmall(RecordType.CHECKPOINT_END.code(), 16);
        flush();
    }

    /**
     * Encodes one page into the open PAGE_DATA record (opening one if needed).
     *
     * @param gfn      guest frame number
     * @param page     the page now, 4096 octets
     * @param previous the copy last sent for this page in this session, or null
     * @return the encoding the encoder chose
     */
    public PageEncoding writePage(long gfn, MemorySegment page, MemorySegment previous) throws IOException {
        int at = openEntry();
        PageEncoding enc = encoder.encode(page, previous, buf, at + 16);
        finishEntry(at, gfn, enc.code(), encoder.length());
        return enc;
    }

    /**
     * Appends an already-encoded page, unchecked: for relaying and for tests that need malformed
     * payloads. {@code encodingCode} is written as given.
     */
    public void writeEncodedPage(long gfn, int encodingCode, byte[] payload, int off, int len) throws IOException {
        if (len < 0 || len > StreamHeader.PAGE_SIZE) {
            throw new IllegalArgumentException("payload of " + len + " octets");
        }
        int at = openEntry();
        System.arraycopy(payload, off, buf, at + 16, len);
        finishEntry(at, gfn, encodingCode, len);
    }

    private int openEntry() throws IOException {
        if (pageRec >= 0 && (pageCount == limits.maxPagesPerRecord()
                || (pos - pageRec - 8) + StreamLimits.PAGE_ENTRY_HEADER + StreamHeader.PAGE_SIZE > limits.maxRecordBody())) {
            closePages();
        }
        if (pageRec < 0) {
            requireNoStreamed();
            ensure(limits.maxPageDataBody() + 16);
            pageRec = pos;
            pageCount = 0;
            pos += 16; // record header + count/reserved, filled in at close
        }
        return pos;
    }

    private void finishEntry(int at, long gfn, int encodingCode, int len) {
        Le.put64(buf, at, gfn);
        Le.put16(buf, at + 8, encodingCode);
        Le.put16(buf, at + 10, 0);
        Le.put32(buf, at + 12, len);
        int end = at + 16 + len;
        int padded = (int) Le.align8(end);
        Arrays.fill(buf, end, padded, (byte) 0);
        pos = padded;
        pageCount++;
        if (epochOpen) {
            epochPages++;
        }
    }

    /** Closes the open PAGE_DATA record, if any. Other record writes do this themselves. */
    public void closePages() {
        if (pageRec < 0) {
            return;
        }
        int body = pos - pageRec - 8;
        Le.put32(buf, pageRec, RecordType.PAGE_DATA.code());
        Le.put32(buf, pageRec + 4, body);
        Le.put32(buf, pageRec + 8, pageCount);
        Le.put32(buf, pageRec + 12, 0);
        crc.reset();
        crc.update(buf, pageRec, 8 + body);
        Le.put32(buf, pos, (int) crc.getValue());
        Le.put32(buf, pos + 4, 0); // body is a multiple of 8, so the padding is 4 octets
        pos += 8;
        pageRec = -1;
        counted(RecordType.PAGE_DATA.code());
    }

    // ---- state and disk --------------------------------------------------------------------

    /** One vCPU's state blob (§5.4). */
    public void writeVcpuState(int vcpu, MemorySegment blob) throws IOException {
        blobRecord(RecordType.VCPU_STATE, vcpu, blob);
    }

    /** The VM-wide state blob (§5.4). */
    public void writeVmState(MemorySegment blob) throws IOException {
        blobRecord(RecordType.VM_STATE, 0, blob);
    }

    /** One device's state blob (§5.4). */
    public void writeDeviceState(int device, MemorySegment blob) throws IOException {
        blobRecord(RecordType.DEVICE_STATE, device, blob);
    }

    private void blobRecord(RecordType type, int id, MemorySegment blob) throws IOException {
        long len = 8 + blob.byteSize();
        if (len > limits.maxRecordBody()) {
            throw new IllegalArgumentException(type + " blob of " + blob.byteSize() + " octets exceeds the record limit of " + limits.maxRecordBody());
        }
        int p = beginStreamed(type.code(), len, 8);
        Le.put32(buf, p, id);
        Le.put32(buf, p + 4, 0);
        prefixWritten(8);
        streamBody(blob);
        endStreamed();
    }

    /**
     * A guest disk write (§5.5); split into several records when {@code data} is larger than the
     * receiver's limit. {@code data} is a positive multiple of 512 octets.
     */
    public void writeDiskWrite(int disk, long sector, MemorySegment data) throws IOException {
        long size = data.byteSize();
        if (size <= 0 || size % 512 != 0) {
            throw new IllegalArgumentException("disk write of " + size + " octets is not a positive multiple of 512");
        }
        for (long done = 0; done < size; ) {
            int n = (int) Math.min(size - done, maxDiskChunk);
            int p = beginStreamed(RecordType.DISK_WRITE.code(), 16L + n, 16);
            Le.put32(buf, p, disk);
            Le.put32(buf, p + 4, n);
            Le.put64(buf, p + 8, sector + done / 512);
            prefixWritten(16);
            streamBody(data.asSlice(done, n));
            endStreamed();
            done += n;
        }
    }

    // ---- control records -------------------------------------------------------------------

    /** Orderly end of the session (§5.7); flushes. */
    public void writeStreamEnd() throws IOException {
        small(RecordType.STREAM_END.code(), 0);
        finishSmall(RecordType.STREAM_END.code(), 0);
        flush();
    }

    /** Back channel: the backup applied {@code epoch} (§5.8); flushes. */
    public void writeAck(long epoch) throws IOException {
        int p = small(RecordType.ACK.code(), 8);
        Le.put64(buf, p, epoch);
        finishSmall(RecordType.ACK.code(), 8);
        flush();
    }

    /**
     * Back channel, version 2 (§5.11): what the backup's copy of disk {@code disk} holds. Sent
     * right after the back header, once per disk, before any other record.
     */
    public void writeDiskState(int disk, java.util.UUID lineage, long syncedEpoch, long extentBytes, long[] extents) throws IOException {
        long len = 40L + 8L * extents.length;
        if (len > limits.maxRecordBody()) throw new IllegalArgumentException(extents.length + " activity-log extents do not fit one record");
        int p = beginStreamed(RecordType.DISK_STATE.code(), len, 40);
        Le.put32(buf, p, disk);
        Le.put32(buf, p + 4, extents.length);
        Le.put64(buf, p + 8, syncedEpoch);
        putUuid(p + 16, lineage);
        Le.put64(buf, p + 32, extentBytes);
        prefixWritten(40);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 * extents.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (long x : extents) b.putLong(x);
        streamBody(MemorySegment.ofArray(b.array()));
        endStreamed();
    }

    /** Forward, version 2, seed only (§5.12): how disk {@code disk} is seeded; precedes its DISK_WRITEs. */
    public void writeDiskResync(int disk, boolean full, long sinceEpoch, java.util.UUID lineage, long resyncBytes, long diskBytes)
            throws IOException {
        int p = small(RecordType.DISK_RESYNC.code(), 48);
        Le.put32(buf, p, disk);
        Le.put32(buf, p + 4, full ? 1 : 0);
        Le.put64(buf, p + 8, sinceEpoch);
        putUuid(p + 16, lineage);
        Le.put64(buf, p + 32, resyncBytes);
        Le.put64(buf, p + 40, diskBytes);
        finishSmall(RecordType.DISK_RESYNC.code(), 48);
    }

    /** A UUID as 16 octets, most significant first (as in the headers); null as zeros. */
    private void putUuid(int at, java.util.UUID u) {
        java.nio.ByteBuffer.wrap(buf, at, 16).putLong(u == null ? 0 : u.getMostSignificantBits()).putLong(u == null ? 0 : u.getLeastSignificantBits());
    }

    /** Either direction (§5.9); flushes. */
    public void writeHeartbeat(long seq, long timeNanos) throws IOException {
        int p = small(RecordType.HEARTBEAT.code(), 16);
        Le.put64(buf, p, seq);
        Le.put64(buf, p + 8, timeNanos);
        finishSmall(RecordType.HEARTBEAT.code(), 16);
        flush();
    }

    /** Either direction: the sender gives up (§5.10); flushes. The message is cut to 1024 UTF-8 octets. */
    public void writeError(int code, String message) throws IOException {
        byte[] m = utf8Cut(message == null ? "" : message, RecordType.MAX_ERROR_MESSAGE);
        int p = small(RecordType.ERROR.code(), 8 + m.length);
        Le.put32(buf, p, code);
        Le.put32(buf, p + 4, m.length);
        System.arraycopy(m, 0, buf, p + 8, m.length);
        finishSmall(RecordType.ERROR.code(), 8 + m.length);
        flush();
    }

    /**
     * Any record, body as given, no checks on the body: for optional extension records and for
     * tests. Counted in the open epoch like any record but HEARTBEAT.
     */
    public void writeRecord(int typeCode, MemorySegment body) throws IOException {
        if (body.byteSize() > limits.maxRecordBody()) {
            throw new IllegalArgumentException("body of " + body.byteSize() + " octets exceeds " + limits.maxRecordBody());
        }
        beginStreamed(typeCode, body.byteSize(), 0);
        streamBody(body);
        endStreamed();
    }

    private static byte[] utf8Cut(String s, int max) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length <= max) {
            return b;
        }
        int n = max;
        while (n > 0 && (b[n] & 0xC0) == 0x80) {
            n--; // do not cut inside a multi-octet character
        }
        return Arrays.copyOf(b, n);
    }

    // ---- framing ---------------------------------------------------------------------------

    /** Reserves a whole small record in the buffer; returns the body position. */
    private int small(int type, int len) throws IOException {
        closePages();
        requireNoStreamed();
        requireHeader();
        ensure((int) Le.align8(12 + len));
        Le.put32(buf, pos, type);
        Le.put32(buf, pos + 4, len);
        return pos + 8;
    }

    private void finishSmall(int type, int len) {
        crc.reset();
        crc.update(buf, pos, 8 + len);
        trailer(pos + 8 + len, (int) crc.getValue());
        counted(type);
    }

    private void trailer(int at, int crcValue) {
        Le.put32(buf, at, crcValue);
        int end = (int) Le.align8(at + 4);
        Arrays.fill(buf, at + 4, end, (byte) 0);
        pos = end;
    }

    /** Starts a record whose body may be larger than the buffer; {@code prefix} octets follow at once. */
    private int beginStreamed(int type, long len, int prefix) throws IOException {
        closePages();
        requireNoStreamed();
        requireHeader();
        ensure(8 + prefix);
        Le.put32(buf, pos, type);
        Le.put32(buf, pos + 4, (int) len);
        crc.reset();
        crc.update(buf, pos, 8);
        pos += 8;
        streamedLeft = len;
        streamedType = type;
        return pos;
    }

    private void prefixWritten(int n) {
        crc.update(buf, pos, n);
        pos += n;
        streamedLeft -= n;
    }

    private void streamBody(MemorySegment src) throws IOException {
        long done = 0;
        long size = src.byteSize();
        while (done < size) {
            if (pos == buf.length) {
                flushBuffer();
            }
            int n = (int) Math.min(size - done, buf.length - pos);
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, done, buf, pos, n);
            crc.update(buf, pos, n);
            pos += n;
            done += n;
        }
        streamedLeft -= size;
    }

    private void endStreamed() throws IOException {
        if (streamedLeft != 0) {
            throw new IllegalStateException("record body short by " + streamedLeft + " octets");
        }
        streamedLeft = -1;
        ensure(12);
        trailer(pos, (int) crc.getValue());
        counted(streamedType);
    }

    private void counted(int type) {
        records++;
        if (epochOpen && type != RecordType.HEARTBEAT.code() && type != RecordType.CHECKPOINT_BEGIN.code()) {
            epochRecords++;
        }
    }

    private void requireNoStreamed() {
        if (streamedLeft >= 0) {
            throw new IllegalStateException("a record body is still being written");
        }
    }

    private void requireHeader() {
        if (!headerWritten) {
            throw new IllegalStateException("write the header first");
        }
    }

    private void ensure(int n) throws IOException {
        if (n > buf.length) {
            throw new IllegalArgumentException(n + " octets do not fit the " + buf.length + "-octet buffer");
        }
        if (buf.length - pos < n) {
            flushBuffer();
        }
    }

    private void flushBuffer() throws IOException {
        if (pageRec >= 0) {
            throw new IllegalStateException("PAGE_DATA record open across a buffer flush");
        }
        if (pos > 0) {
            sink.write(buf, 0, pos);
            flushed += pos;
            pos = 0;
        }
    }

    /** Closes an open PAGE_DATA record and writes everything buffered to the connection. */
    @Override
    public void flush() throws IOException {
        closePages();
        flushBuffer();
        sink.flush();
    }

    /** Octets produced so far (written or buffered), header included. */
    public long bytesWritten() {
        return flushed + pos;
    }

    /** Records produced so far. */
    public long recordsWritten() {
        return records;
    }

    /** The encoder, for its statistics. */
    public PageEncoder encoder() {
        return encoder;
    }
}
