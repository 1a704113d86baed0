package io.jremus.replication.stream;

import io.jremus.replication.stream.page.PageDecoder;
import io.jremus.replication.stream.page.PageEncoding;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.Channels;
import java.util.ArrayList;
import java.util.List;

import static io.jremus.replication.stream.StreamFixtures.*;
import static org.assertj.core.api.Assertions.assertThat;

class RecordRoundTripTest {

    @Test
    void shouldRoundTripEveryForwardRecordTypeWithItsFields() throws Exception {
        byte[] stream = sampleStream(null);
        assertThat(stream.length % 8).isZero();
        RecordReader r = forward(stream, SMALL);
        assertThat(r.readHeader()).isEqualTo(header(5));
        try (Arena arena = Arena.ofConfined()) {
            PageDecoder dec = new PageDecoder();
            MemorySegment target = arena.allocate(4096);

            RecordView v = r.next();
            assertThat(v.type()).isEqualTo(RecordType.PRECOPY_ROUND);
            assertThat(v.round()).isZero();
            assertThat(v.pagesRemaining()).isEqualTo(3);

            v = r.next();
            assertThat(v.type()).isEqualTo(RecordType.PAGE_DATA);
            PageBatchView pages = v.pages();
            assertThat(pages.count()).isEqualTo(3);
            List<Long> gfns = new ArrayList<>();
            List<PageEncoding> encs = new ArrayList<>();
            while (pages.next()) {
                gfns.add(pages.gfn());
                encs.add(pages.encoding());
                pages.decodeInto(dec, target);
                if (pages.gfn() == 1) {
                    assertThat(target.mismatch(page(arena, 1))).isEqualTo(-1);
                }
            }
            assertThat(gfns).containsExactly(1L, 2L, HIGH_GFN);
            assertThat(encs).containsExactly(PageEncoding.RAW, PageEncoding.ZERO, PageEncoding.RAW);

            v = r.next();
            assertThat(v.type()).isEqualTo(RecordType.DISK_WRITE);
            assertThat(v.disk()).isZero();
            assertThat(v.sector()).isEqualTo(8);
            assertThat(v.dataLength()).isEqualTo(1024);
            assertThat(v.data().toArray(ValueLayout.JAVA_BYTE)).containsOnly((byte) 0x5A);

            v = r.next();
            assertThat(v.type()).isEqualTo(RecordType.CHECKPOINT_BEGIN);
            assertThat(v.epoch()).isEqualTo(5);
            assertThat(r.inEpoch()).isTrue();

            v = r.next();
            assertThat(v.type()).isEqualTo(RecordType.PAGE_DATA);
            pages = v.pages();
            assertThat(pages.next()).isTrue();
            assertThat(pages.encoding()).isEqualTo(PageEncoding.XOR_RLE);
            target.copyFrom(page(arena, 2));
            pages.decodeInto(dec, target);
            assertThat(target.get(ValueLayout.JAVA_INT_UNALIGNED, 100)).isEqualTo(0xCAFE);
            assertThat(pages.next()).isFalse();

            v = r.next();
            assertThat(v.type()).isEqualTo(RecordType.VCPU_STATE);
            assertThat(v.stateId()).isZero();
            assertThat(v.blob().toArray(ValueLayout.JAVA_BYTE)).containsExactly(1, 2, 3, 4, 5);
            v = r.next();
            assertThat(v.type()).isEqualTo(RecordType.VM_STATE);
            assertThat(v.blob().toArray(ValueLayout.JAVA_BYTE)).containsExactly(9, 9);
            v = r.next();
            assertThat(v.type()).isEqualTo(RecordType.DEVICE_STATE);
            assertThat(v.stateId()).isEqualTo(3);
            assertThat(v.blobLength()).isZero();
            v = r.next();
            assertThat(v.type()).isEqualTo(RecordType.HEARTBEAT);
            assertThat(v.heartbeatSeq()).isEqualTo(1);
            assertThat(v.heartbeatTimeNanos()).isEqualTo(1000);
            v = r.next();
            assertThat(v.type()).isEqualTo(RecordType.DISK_WRITE);
            assertThat(v.disk()).isEqualTo(1);
            assertThat(v.sector()).isEqualTo(64);

            v = r.next();
            assertThat(v.type()).isEqualTo(RecordType.CHECKPOINT_END);
            assertThat(v.epoch()).isEqualTo(5);
            assertThat(v.recordCount()).isEqualTo(5); // PAGE_DATA, 3 state records, DISK_WRITE; not the heartbeat
            assertThat(v.pageCount()).isEqualTo(1);
            assertThat(r.inEpoch()).isFalse();

            assertThat(r.next().type()).isEqualTo(RecordType.CHECKPOINT_BEGIN);
            v = r.next();
            assertThat(v.type()).isEqualTo(RecordType.CHECKPOINT_END);
            assertThat(v.recordCount()).isZero();
            assertThat(r.next().type()).isEqualTo(RecordType.STREAM_END);
            assertThat(r.next()).isNull();
            assertThat(r.offset()).isEqualTo(stream.length);
        }
    }

    @Test
    void shouldRoundTripTheBackChannel() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        RecordWriter w = new RecordWriter(Channels.newChannel(bytes), SMALL, io.jremus.replication.stream.page.PageEncoder.create(
                io.jremus.replication.stream.page.PageEncoder.Policy.FAST));
        w.writeBackHeader(new BackHeader(SESSION));
        w.writeAck(5);
        w.writeHeartbeat(10, 123_456_789L);
        w.writeAck(6);
        w.writeError(ErrorCodes.RESOURCES, "disk full: écrit 0 octets");
        RecordReader r = RecordReader.of(Channels.newChannel(new ByteArrayInputStream(bytes.toByteArray())), StreamDirection.BACK, SMALL);
        assertThat(r.readBackHeader(SESSION).sessionId()).isEqualTo(SESSION);
        assertThat(r.next().epoch()).isEqualTo(5);
        RecordView hb = r.next();
        assertThat(hb.heartbeatSeq()).isEqualTo(10);
        assertThat(hb.heartbeatTimeNanos()).isEqualTo(123_456_789L);
        assertThat(r.next().epoch()).isEqualTo(6);
        RecordView err = r.next();
        assertThat(err.type()).isEqualTo(RecordType.ERROR);
        assertThat(err.errorCode()).isEqualTo(ErrorCodes.RESOURCES);
        assertThat(err.errorMessage()).isEqualTo("disk full: écrit 0 octets");
        assertThat(r.next()).isNull();
    }

    @Test
    void shouldCutLongErrorMessagesAtACharacterBoundary() throws Exception {
        Out o = new Out(SMALL);
        o.w.writeBackHeader(new BackHeader(SESSION));
        o.w.writeError(ErrorCodes.INTERNAL, "é".repeat(600)); // 1200 octets of UTF-8
        RecordReader r = RecordReader.of(new ByteArrayInputStream(o.done()), StreamDirection.BACK, SMALL);
        r.readBackHeader(SESSION);
        String m = r.next().errorMessage();
        assertThat(m).isEqualTo("é".repeat(512));
    }

    @Test
    void shouldSplitPageBatchesAndLargeDiskWritesWithinTheLimits() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            Out o = new Out(SMALL);
            o.w.writeHeader(header(0));
            o.w.beginCheckpoint(0);
            for (int i = 0; i < 7; i++) {
                o.w.writePage(i, page(arena, i), null);
            }
            MemorySegment data = arena.allocate(4096 * 2 + 512);
            for (int i = 0; i < data.byteSize(); i++) {
                data.set(ValueLayout.JAVA_BYTE, i, (byte) (i / 512));
            }
            o.w.writeDiskWrite(2, 1000, data);
            o.w.endCheckpoint();
            RecordReader r = forward(o.done(), SMALL);
            r.readHeader();
            r.next();
            int batches = 0;
            int pages = 0;
            RecordView v;
            while ((v = r.next()).type() == RecordType.PAGE_DATA) {
                batches++;
                pages += v.pages().count();
            }
            assertThat(batches).isEqualTo(3); // 3 + 3 + 1 with 3 pages per record
            assertThat(pages).isEqualTo(7);
            long sector = 1000;
            List<Integer> lengths = new ArrayList<>();
            for (; v.type() == RecordType.DISK_WRITE; v = r.next()) {
                assertThat(v.sector()).isEqualTo(sector);
                assertThat(v.data().get(ValueLayout.JAVA_BYTE, 0)).isEqualTo((byte) (sector - 1000));
                sector += v.dataLength() / 512;
                lengths.add(v.dataLength());
            }
            assertThat(lengths).containsExactly(4096, 4096, 512);
            assertThat(v.type()).isEqualTo(RecordType.CHECKPOINT_END);
            assertThat(v.recordCount()).isEqualTo(6);
            assertThat(v.pageCount()).isEqualTo(7);
        }
    }

    @Test
    void shouldStreamABlobLargerThanTheWriteBuffer() throws Exception {
        StreamLimits limits = StreamLimits.defaults();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment blob = arena.allocate(3 << 20);
            for (long i = 0; i < blob.byteSize(); i += 8) {
                blob.set(ValueLayout.JAVA_LONG_UNALIGNED, i, i * 31);
            }
            Out o = new Out(limits);
            o.w.writeHeader(header(0));
            o.w.beginCheckpoint(0);
            o.w.writeDeviceState(7, blob);
            o.w.endCheckpoint();
            RecordReader r = forward(o.done(), limits);
            r.readHeader();
            r.next();
            RecordView v = r.next();
            assertThat(v.stateId()).isEqualTo(7);
            assertThat(v.blob().mismatch(blob)).isEqualTo(-1);
            assertThat(r.next().type()).isEqualTo(RecordType.CHECKPOINT_END);
        }
    }

    @Test
    void shouldDescribeTheRecordInItsToString() throws Exception {
        RecordReader r = forward(sampleStream(null), SMALL);
        r.readHeader();
        assertThat(r.next().toString()).isEqualTo("record 0 (PRECOPY_ROUND) at offset 112, 16 octets");
    }
}
