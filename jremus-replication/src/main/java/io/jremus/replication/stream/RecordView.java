package io.jremus.replication.stream;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * A flyweight over the record the {@link RecordReader} returned last; valid until the next
 * {@code next()}. The accessors read the body's fields at the offsets of docs/stream-format.md §5;
 * each is meaningful only for the types its Javadoc names (the reader has validated them).
 */
public final class RecordView {
    /** Body offset in the reader's buffer (after type and length). */
    static final int BODY = 8;

    private final byte[] buf;
    private final MemorySegment seg;
    private final PageBatchView pages;
    private RecordType type;
    private int code;
    private int length;
    private long index;
    private long offset;

    RecordView(byte[] buf) {
        this.buf = buf;
        this.seg = MemorySegment.ofArray(buf);
        this.pages = new PageBatchView(this, buf, seg);
    }

    void reset(RecordType type, int code, int length, long index, long offset) {
        this.type = type;
        this.code = code;
        this.length = length;
        this.index = index;
        this.offset = offset;
    }

    /** The record type; never null for a returned record (unknown optional ones are skipped). */
    public RecordType type() {
        return type;
    }

    public int typeCode() {
        return code;
    }

    /** Body length in octets. */
    public int bodyLength() {
        return length;
    }

    /** Index of the record, counting from 0 after the header. */
    public long index() {
        return index;
    }

    /** Stream offset of the record's first octet. */
    public long offset() {
        return offset;
    }

    /** The whole body as a segment (allocates a slice; not for per-page use). */
    public MemorySegment body() {
        return seg.asSlice(BODY, length);
    }

    // ---- CHECKPOINT_BEGIN, CHECKPOINT_END, ACK ---------------------------------------------

    /** CHECKPOINT_BEGIN, CHECKPOINT_END, ACK: the epoch. */
    public long epoch() {
        return Le.i64(buf, BODY);
    }

    /** CHECKPOINT_END: records in the epoch. */
    public int recordCount() {
        return Le.i32(buf, BODY + 8);
    }

    /** CHECKPOINT_END: pages in the epoch. */
    public int pageCount() {
        return Le.i32(buf, BODY + 12);
    }

    // ---- PRECOPY_ROUND ---------------------------------------------------------------------

    /** PRECOPY_ROUND: the round number. */
    public int round() {
        return Le.i32(buf, BODY);
    }

    /** PRECOPY_ROUND: pages the primary means to send in this round. */
    public long pagesRemaining() {
        return Le.i64(buf, BODY + 8);
    }

    // ---- PAGE_DATA -------------------------------------------------------------------------

    /** PAGE_DATA: a cursor over the entries, positioned before the first (reused; no allocation). */
    public PageBatchView pages() {
        pages.rewind(Le.i32(buf, BODY));
        return pages;
    }

    // ---- VCPU_STATE, VM_STATE, DEVICE_STATE ------------------------------------------------

    /** VCPU_STATE: vCPU index; VM_STATE: 0; DEVICE_STATE: device id. */
    public int stateId() {
        return Le.i32(buf, BODY);
    }

    /** State records: blob length in octets. */
    public int blobLength() {
        return length - 8;
    }

    /** State records: the blob (a slice of the reader's buffer; copy it before the next record). */
    public MemorySegment blob() {
        return seg.asSlice(BODY + 8, length - 8);
    }

    // ---- DISK_WRITE ------------------------------------------------------------------------

    /** DISK_WRITE: disk index. */
    public int disk() {
        return Le.i32(buf, BODY);
    }

    /** DISK_WRITE: first sector. */
    public long sector() {
        return Le.i64(buf, BODY + 8);
    }

    /** DISK_WRITE: data length in octets (a multiple of 512). */
    public int dataLength() {
        return Le.i32(buf, BODY + 4);
    }

    /** DISK_WRITE: the data (a slice of the reader's buffer; copy it before the next record). */
    public MemorySegment data() {
        return seg.asSlice(BODY + 16, dataLength());
    }

    // ---- DISK_STATE, DISK_RESYNC (version 2) -----------------------------------------------

    /** DISK_STATE: how many activity-log extents follow. */
    public int extentCount() {
        return Le.i32(buf, BODY + 4);
    }

    /** DISK_STATE: the backup's synced epoch (-1 unknown); DISK_RESYNC: the epoch a partial resync starts after (-1 for full). */
    public long syncEpoch() {
        return Le.i64(buf, BODY + 8);
    }

    /** DISK_STATE, DISK_RESYNC: the lineage, or null when the 16 octets are zero. */
    public java.util.UUID lineage() {
        ByteBuffer b = ByteBuffer.wrap(buf, BODY + 16, 16);
        long hi = b.getLong(), lo = b.getLong();
        return hi == 0 && lo == 0 ? null : new java.util.UUID(hi, lo);
    }

    /** DISK_STATE: the extent size of the activity log. */
    public long extentBytes() {
        return Le.i64(buf, BODY + 32);
    }

    /** DISK_STATE: the activity-log extents. */
    public long[] extents() {
        long[] x = new long[extentCount()];
        for (int i = 0; i < x.length; i++) x[i] = Le.i64(buf, BODY + 40 + 8 * i);
        return x;
    }

    /** DISK_RESYNC: whether the disk is copied in full (the backup empties its image first). */
    public boolean resyncFull() {
        return Le.i32(buf, BODY + 4) == 1;
    }

    /** DISK_RESYNC: octets of DISK_WRITE data the resync will send (for progress display). */
    public long resyncBytes() {
        return Le.i64(buf, BODY + 32);
    }

    /** DISK_RESYNC: the primary's disk size in octets. */
    public long resyncDiskBytes() {
        return Le.i64(buf, BODY + 40);
    }

    // ---- HEARTBEAT -------------------------------------------------------------------------

    /** HEARTBEAT: sequence number. */
    public long heartbeatSeq() {
        return Le.i64(buf, BODY);
    }

    /** HEARTBEAT: the sender's monotonic time in nanoseconds. */
    public long heartbeatTimeNanos() {
        return Le.i64(buf, BODY + 8);
    }

    // ---- ERROR -----------------------------------------------------------------------------

    /** ERROR: the code (§5.10, {@link ErrorCodes}). */
    public int errorCode() {
        return Le.i32(buf, BODY);
    }

    /** ERROR: the message. */
    public String errorMessage() {
        return new String(buf, BODY + 8, length - 8, StandardCharsets.UTF_8);
    }

    boolean messageIsUtf8() {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            d.decode(ByteBuffer.wrap(buf, BODY + 8, length - 8));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    @Override
    public String toString() {
        return "record " + index + " (" + RecordType.describe(code) + ") at offset " + offset + ", " + length + " octets";
    }
}
