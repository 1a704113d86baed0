package io.jremus.replication.stream;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.util.List;
import java.util.UUID;

import static io.jremus.replication.stream.StreamFixtures.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HeaderValidationTest {

    private static StreamException refuse(byte[] h) {
        Throwable t = org.assertj.core.api.Assertions.catchThrowable(() -> forward(h, SMALL).readHeader());
        assertThat(t).isInstanceOf(StreamException.class);
        return (StreamException) t;
    }

    @Test
    void shouldRefuseWrongMagicWithTheValue() {
        byte[] h = header(1).encode();
        h[1] = 'X';
        StreamException e = refuse(h);
        assertThat(e.kind()).isEqualTo(StreamException.Kind.HEADER);
        assertThat(e.getMessage()).contains("bad magic 0x4653554d455258").contains("not a jremus replication stream");
    }

    @Test
    void shouldRefuseAnotherVersion() {
        byte[] h = header(1).encode();
        h[8] = 1; // version 1 had no disk resync records
        assertThat(refuse(h).getMessage()).isEqualTo("at offset 8: stream version 1, this receiver reads version 2");
    }

    @Test
    void shouldRefuseAnotherPageSize() {
        byte[] h = header(1).encode();
        h[10] = 16;
        assertThat(refuse(h).getMessage()).contains("page shift 16 (page size 65536), expected 12 (4096)");
    }

    @Test
    void shouldRefuseRegionCountsOutsideTheFormat() {
        byte[] h = header(1).encode();
        h[12] = 0;
        assertThat(refuse(h).getMessage()).contains("region count 0 not in 1..64");
        h[12] = 65;
        assertThat(refuse(h).getMessage()).contains("region count 65 not in 1..64");
    }

    @Test
    void shouldRefuseAFlippedHeaderOctetByItsCrc() {
        byte[] good = header(1).encode();
        for (int i = 16; i < good.length - 8; i++) { // past the prefix fields that have their own checks
            byte[] h = good.clone();
            h[i] ^= 0x10;
            StreamException e = refuse(h);
            assertThat(e.kind()).isEqualTo(StreamException.Kind.HEADER);
            assertThat(e.getMessage()).contains("header CRC mismatch");
        }
    }

    @Test
    void shouldRefuseATruncatedHeader() {
        byte[] good = header(1).encode();
        for (int n = 0; n < good.length; n++) {
            byte[] h = java.util.Arrays.copyOf(good, n);
            StreamException e = refuse(h);
            assertThat(e.kind()).as("prefix of %d octets", n).isIn(StreamException.Kind.TRUNCATED, StreamException.Kind.HEADER);
        }
    }

    @Test
    void shouldRefuseOverlappingOrUnalignedRegionsEvenWithAGoodCrc() {
        assertThatThrownBy(() -> new StreamHeader(SESSION, 0, DIGEST,
                List.of(new StreamHeader.Region(0, 8192), new StreamHeader.Region(4096, 4096))))
                .hasMessageContaining("overlaps");
        assertThatThrownBy(() -> new StreamHeader(SESSION, 0, DIGEST, List.of(new StreamHeader.Region(100, 4096))))
                .hasMessageContaining("not page-aligned");
    }

    @Test
    void shouldRefuseAHeaderForAnotherVmConfigOrLayout() throws Exception {
        StreamHeader received = forward(header(1).encode(), SMALL).readHeader();
        received.requireCompatible(DIGEST, REGIONS);
        assertThatThrownBy(() -> received.requireCompatible(digest(8), REGIONS))
                .isInstanceOfSatisfying(StreamException.class, e -> assertThat(e.kind()).isEqualTo(StreamException.Kind.MISMATCH))
                .hasMessageContaining("config digest");
        assertThatThrownBy(() -> received.requireCompatible(DIGEST, List.of(new StreamHeader.Region(0, 2 << 20))))
                .hasMessageContaining("guest memory layout [0x0+0x100000, 0x100000000+0x100000] differs from this node's [0x0+0x200000]");
    }

    @Test
    void shouldRefuseABackChannelForAnotherSession() throws Exception {
        byte[] b = new BackHeader(UUID.randomUUID()).encode();
        RecordReader r = RecordReader.of(new ByteArrayInputStream(b), StreamDirection.BACK, SMALL);
        assertThatThrownBy(() -> r.readBackHeader(SESSION))
                .isInstanceOfSatisfying(StreamException.class, e -> assertThat(e.kind()).isEqualTo(StreamException.Kind.MISMATCH))
                .hasMessageContaining("expected " + SESSION);
    }

    @Test
    void shouldRefuseAForwardStreamReadAsABackChannel() {
        RecordReader r = RecordReader.of(new ByteArrayInputStream(header(1).encode()), StreamDirection.BACK, SMALL);
        assertThatThrownBy(() -> r.readBackHeader(SESSION)).hasMessageContaining("not a jremus back channel");
    }
}
