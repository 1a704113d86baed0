package io.jremus.replication.stream;

import io.jremus.replication.stream.page.PageDecoder;
import io.jremus.replication.stream.page.PageEncoding;
import io.jremus.replication.stream.page.PageFormatException;

import java.lang.foreign.MemorySegment;

/**
 * A cursor over the entries of the current PAGE_DATA record (docs/stream-format.md §5.3). The
 * reader has checked the structure (counts, lengths, encodings, GFNs, padding); payload contents
 * are checked by {@link #decodeInto}. Reused for every record: no allocation.
 *
 * <pre>{@code
 * PageBatchView pages = record.pages();
 * while (pages.next()) {
 *     pages.decodeInto(decoder, stagingCopyOf(pages.gfn()));
 * }
 * }</pre>
 */
public final class PageBatchView {
    private final RecordView record;
    private final byte[] buf;
    private final MemorySegment seg;
    private int count;
    private int i;
    private int at;
    private int nextAt;

    PageBatchView(RecordView record, byte[] buf, MemorySegment seg) {
        this.record = record;
        this.buf = buf;
        this.seg = seg;
    }

    void rewind(int count) {
        this.count = count;
        this.i = -1;
        this.nextAt = RecordView.BODY + 8;
    }

    /** Number of pages in the record. */
    public int count() {
        return count;
    }

    /** Moves to the next entry; false after the last. */
    public boolean next() {
        if (i + 1 >= count) {
            return false;
        }
        i++;
        at = nextAt;
        nextAt = (int) Le.align8(at + 16L + payloadLength());
        return true;
    }

    /** Index of the current entry in the record. */
    public int position() {
        return i;
    }

    /** Guest frame number of the current entry. */
    public long gfn() {
        return Le.i64(buf, at);
    }

    /** Encoding of the current entry. */
    public PageEncoding encoding() {
        return PageEncoding.fromCode(Le.u16(buf, at + 8));
    }

    /** Payload length of the current entry. */
    public int payloadLength() {
        return Le.i32(buf, at + 12);
    }

    /** The reader's buffer as a segment; the payload is at {@link #payloadOffset()}. */
    public MemorySegment payloadSegment() {
        return seg;
    }

    /** Offset of the current payload in {@link #payloadSegment()}. */
    public int payloadOffset() {
        return at + 16;
    }

    /**
     * Decodes the current entry onto {@code target} (4096 octets holding the receiver's old copy of
     * the page, §6). A payload that does not decode is refused as {@link StreamException.Kind#MALFORMED}
     * naming the record and the page; {@code target} is then unchanged.
     */
    public void decodeInto(PageDecoder decoder, MemorySegment target) throws StreamException {
        try {
            decoder.decode(encoding(), seg, at + 16, payloadLength(), target);
        } catch (PageFormatException e) {
            throw StreamException.atRecord(StreamException.Kind.MALFORMED, record.index(), RecordType.PAGE_DATA.name(), record.offset(),
                    String.format("page %d (gfn 0x%x): %s", i, gfn(), e.getMessage()));
        }
    }
}
