package io.jremus.replication.stream;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.jremus.replication.stream.StreamException.Kind.*;
import static io.jremus.replication.stream.StreamFixtures.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** Invariant 6: every corruption class of docs/stream-format.md §8 is refused, naming the record. */
class CorruptStreamTest {

    private static StreamException refused(byte[] stream) {
        Throwable t = catchThrowable(() -> readAll(stream, SMALL));
        assertThat(t).as("stream must be refused").isInstanceOf(StreamException.class);
        return (StreamException) t;
    }

    @Test
    void shouldReadTheUncorruptedSample() throws Exception {
        assertThat(readAll(sampleStream(null), SMALL)).hasSize(14).endsWith(RecordType.STREAM_END);
    }

    @Test
    void shouldRefuseAFlippedOctetAnywhereInAnyRecordNamingThatRecord() throws Exception {
        List<Long> starts = new ArrayList<>();
        byte[] good = sampleStream(starts);
        assertThat(starts).hasSize(14);
        for (int rec = 0; rec < starts.size(); rec++) {
            long from = starts.get(rec);
            long to = rec + 1 < starts.size() ? starts.get(rec + 1) : good.length;
            int bodyLen = (int) Le.u32(good, (int) from + 4);
            for (long i = from; i < to; i++) {
                for (int bit : new int[]{0x01, 0x80}) {
                    byte[] bad = good.clone();
                    bad[(int) i] ^= (byte) bit;
                    StreamException e = refused(bad);
                    long at = i - from;
                    String ctx = "record " + rec + ", octet " + at + ", bit " + bit;
                    assertThat(e.recordIndex()).as(ctx).isEqualTo(rec);
                    assertThat(e.offset()).as(ctx).isEqualTo(from);
                    assertThat(e.getMessage()).as(ctx).startsWith("record " + rec + " (");
                    if (at >= 4 && at < 8) {
                        assertThat(e.kind()).as(ctx).isIn(CRC, LENGTH, TRUNCATED); // the length field
                    } else if (at >= 12 + bodyLen) {
                        assertThat(e.kind()).as(ctx).isEqualTo(MALFORMED); // padding, outside the CRC
                        assertThat(e.getMessage()).contains("padding");
                    } else {
                        assertThat(e.kind()).as(ctx).isEqualTo(CRC);
                        assertThat(e.getMessage()).as(ctx).containsPattern("CRC mismatch 0x[0-9a-f]{8} != 0x[0-9a-f]{8}");
                    }
                }
            }
        }
    }

    @Test
    void shouldNameRecordTypeAndOffsetInACrcError() throws Exception {
        List<Long> starts = new ArrayList<>();
        byte[] bad = sampleStream(starts);
        int pageData = starts.get(1).intValue();
        bad[pageData + 40] ^= 1;
        assertThat(refused(bad).getMessage()).matches("record 1 \\(PAGE_DATA\\) at offset " + pageData + ": CRC mismatch 0x[0-9a-f]{8} != 0x[0-9a-f]{8}");
    }

    @Test
    void shouldRefuseATruncationAnywhere() throws Exception {
        List<Long> starts = new ArrayList<>();
        byte[] good = sampleStream(starts);
        for (int n = 0; n < good.length; n++) {
            StreamException e = refused(Arrays.copyOf(good, n));
            assertThat(e.kind()).as("cut at %d", n).isIn(TRUNCATED, HEADER);
            if (n >= starts.getFirst()) {
                assertThat(e.kind()).as("cut at %d", n).isEqualTo(TRUNCATED);
            }
        }
        StreamException cutInEpoch = refused(Arrays.copyOf(good, starts.get(5).intValue()));
        assertThat(cutInEpoch.getMessage()).contains("inside epoch 5");
    }

    @Test
    void shouldRefuseReorderedRecords() throws Exception {
        List<Long> starts = new ArrayList<>();
        byte[] good = sampleStream(starts);
        // CHECKPOINT_END(5) (record 10) after CHECKPOINT_BEGIN(6) (record 11): BEGIN inside an open epoch.
        StreamException begin = refused(swap(good, starts, 10, 11));
        assertThat(begin.kind()).isEqualTo(ORDER);
        assertThat(begin.getMessage()).contains("CHECKPOINT_BEGIN(6) inside epoch 5, which has no CHECKPOINT_END");
        // PRECOPY_ROUND (0) after PAGE_DATA (1): pages before any round.
        StreamException e = refused(swap(good, starts, 0, 1));
        assertThat(e.kind()).isEqualTo(ORDER);
        assertThat(e.getMessage()).contains("PAGE_DATA outside a pre-copy round or an epoch (before the first pre-copy round)");
        // CHECKPOINT_END(5) (10) before the DISK_WRITE (9): the counts do not match.
        e = refused(swap(good, starts, 9, 10));
        assertThat(e.kind()).isEqualTo(EPOCH);
        assertThat(e.getMessage()).contains("epoch 5 announces 5 records and 1 pages, received 4 records and 1 pages");
    }

    @Test
    void shouldRefuseAnEpochGoingBackwardsRepeatingOrSkipping() throws Exception {
        for (long[] epochs : new long[][]{{5, 6, 5}, {5, 5}, {5, 7}, {4}}) {
            Out o = new Out(SMALL);
            o.w.writeHeader(header(5));
            for (long e : epochs) {
                o.w.beginCheckpoint(e);
                o.w.endCheckpoint();
            }
            StreamException e = refused(o.done());
            assertThat(e.kind()).as(Arrays.toString(epochs)).isEqualTo(EPOCH);
        }
        Out o = new Out(SMALL);
        o.w.writeHeader(header(5));
        o.w.beginCheckpoint(5);
        o.w.endCheckpoint();
        o.w.beginCheckpoint(6);
        o.w.endCheckpoint();
        o.w.beginCheckpoint(5);
        assertThat(refused(o.done()).getMessage()).isEqualTo(
                "record 4 (CHECKPOINT_BEGIN) at offset 224: epoch 5 goes backwards or repeats: expected 7 after epoch 6");
    }

    @Test
    void shouldRefuseAnEndThatClosesAnotherEpoch() throws Exception {
        Out o = new Out(SMALL);
        o.w.writeHeader(header(5));
        o.w.beginCheckpoint(5);
        byte[] body = new byte[16];
        Le.put64(body, 0, 9);
        o.w.writeRecord(RecordType.CHECKPOINT_END.code(), java.lang.foreign.MemorySegment.ofArray(body));
        assertThat(refused(o.done()).getMessage()).contains("CHECKPOINT_END(9) does not close the open epoch 5");
    }

    @Test
    void shouldRefuseRecordsWhereTheOrderDoesNotAllowThem() throws Exception {
        // State outside an epoch.
        Out o = new Out(SMALL);
        o.w.writeHeader(header(0));
        o.w.writeVcpuState(0, java.lang.foreign.MemorySegment.ofArray(new byte[8]));
        assertThat(refused(o.done()).getMessage()).contains("VCPU_STATE outside an epoch");
        // A back-channel record in the forward direction.
        o = new Out(SMALL);
        o.w.writeHeader(header(0));
        o.w.writeAck(0);
        assertThat(refused(o.done()).getMessage()).contains("ACK is not allowed in the FORWARD direction");
        // BEGIN inside an epoch.
        o = new Out(SMALL);
        o.w.writeHeader(header(0));
        o.w.beginCheckpoint(0);
        o.w.writeRecord(RecordType.CHECKPOINT_BEGIN.code(), java.lang.foreign.MemorySegment.ofArray(new byte[8]));
        assertThat(refused(o.done()).getMessage()).contains("CHECKPOINT_BEGIN(0) inside epoch 0");
        // Anything after STREAM_END.
        o = new Out(SMALL);
        o.w.writeHeader(header(0));
        o.w.writeStreamEnd();
        o.w.writeHeartbeat(1, 1);
        assertThat(refused(o.done()).kind()).isEqualTo(ORDER);
        // A pre-copy round after the first epoch, and a skipped round.
        o = new Out(SMALL);
        o.w.writeHeader(header(0));
        o.w.writePrecopyRound(0, 0);
        o.w.writePrecopyRound(2, 0);
        assertThat(refused(o.done()).getMessage()).contains("pre-copy round 2, expected round 1");
        o = new Out(SMALL);
        o.w.writeHeader(header(0));
        o.w.beginCheckpoint(0);
        o.w.endCheckpoint();
        o.w.writePrecopyRound(0, 0);
        assertThat(refused(o.done()).getMessage()).contains("PRECOPY_ROUND(0) after seeding ended");
        // Heartbeats must go up.
        o = new Out(SMALL);
        o.w.writeHeader(header(0));
        o.w.writeHeartbeat(5, 0);
        o.w.writeHeartbeat(5, 0);
        assertThat(refused(o.done()).getMessage()).contains("heartbeat seq 5 after 5");
    }

    @Test
    void shouldRefuseABodyLongerThanTheLimitBeforeReadingIt() throws Exception {
        Out o = new Out(StreamLimits.defaults());
        o.w.writeHeader(header(0));
        o.w.beginCheckpoint(0);
        o.w.writeDeviceState(1, java.lang.foreign.MemorySegment.ofArray(new byte[20_000]));
        StreamException e = catchThrowableOfType(o.done());
        assertThat(e.kind()).isEqualTo(LENGTH);
        assertThat(e.getMessage()).isEqualTo("record 1 (DEVICE_STATE) at offset 136: body length 20008 exceeds the limit of 16384");
    }

    @Test
    void shouldRefuseAPageOutsideGuestRamOrWithAnUnknownEncoding() throws Exception {
        Out o = new Out(SMALL);
        o.w.writeHeader(header(0));
        o.w.beginCheckpoint(0);
        o.w.writeEncodedPage(256, 0, new byte[0], 0, 0); // first frame after region 0
        assertThat(refused(o.done()).getMessage()).contains("page 0: gfn 0x100 is outside guest RAM");
        o = new Out(SMALL);
        o.w.writeHeader(header(0));
        o.w.beginCheckpoint(0);
        o.w.writeEncodedPage(3, 9, new byte[0], 0, 0);
        assertThat(refused(o.done()).getMessage()).contains("page 0 (gfn 0x3): unknown encoding 9");
        o = new Out(SMALL);
        o.w.writeHeader(header(0));
        o.w.beginCheckpoint(0);
        o.w.writeEncodedPage(3, 1, new byte[100], 0, 100); // RAW must be 4096
        assertThat(refused(o.done()).getMessage()).contains("page 0 (gfn 0x3): RAW payload of 100 octets not allowed");
    }

    @Test
    void shouldSkipAnUnknownOptionalRecordAndCountIt() throws Exception {
        Out o = new Out(SMALL);
        o.w.writeHeader(header(0));
        o.w.beginCheckpoint(0);
        o.w.writeRecord(RecordType.OPTIONAL_BIT | 0x42, java.lang.foreign.MemorySegment.ofArray(new byte[]{1, 2, 3}));
        o.w.endCheckpoint();
        o.w.writeStreamEnd();
        RecordReader r = forward(o.done(), SMALL);
        r.readHeader();
        List<RecordType> seen = new ArrayList<>();
        for (RecordView v; (v = r.next()) != null; ) {
            seen.add(v.type());
        }
        assertThat(seen).containsExactly(RecordType.CHECKPOINT_BEGIN, RecordType.CHECKPOINT_END, RecordType.STREAM_END);
        assertThat(r.skippedOptional()).isEqualTo(1);
    }

    @Test
    void shouldRefuseAnUnknownMandatoryRecord() throws Exception {
        Out o = new Out(SMALL);
        o.w.writeHeader(header(0));
        o.w.beginCheckpoint(0);
        o.w.writeRecord(0x42, java.lang.foreign.MemorySegment.ofArray(new byte[]{1, 2, 3}));
        StreamException e = refused(o.done());
        assertThat(e.kind()).isEqualTo(UNKNOWN_TYPE);
        assertThat(e.getMessage()).isEqualTo("record 1 (unknown mandatory type 0x00000042) at offset 136: unknown mandatory record type; this receiver cannot skip it");
    }

    @Test
    void shouldStayDeadAfterARefusal() throws Exception {
        List<Long> starts = new ArrayList<>();
        byte[] bad = sampleStream(starts);
        bad[starts.get(0).intValue() + 9] ^= 1;
        RecordReader r = forward(bad, SMALL);
        r.readHeader();
        StreamException first = (StreamException) catchThrowable(r::next);
        assertThat(catchThrowable(r::next)).isSameAs(first);
    }

    private static StreamException catchThrowableOfType(byte[] stream) {
        return refused(stream);
    }

    private static byte[] swap(byte[] s, List<Long> starts, int a, int b) {
        assertThat(b).isEqualTo(a + 1);
        int sa = starts.get(a).intValue();
        int sb = starts.get(b).intValue();
        int eb = b + 1 < starts.size() ? starts.get(b + 1).intValue() : s.length;
        byte[] out = s.clone();
        int lb = eb - sb;
        System.arraycopy(s, sb, out, sa, lb);
        System.arraycopy(s, sa, out, sa + lb, sb - sa);
        return out;
    }
}
