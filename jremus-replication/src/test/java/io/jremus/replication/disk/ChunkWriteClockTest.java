package io.jremus.replication.disk;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ChunkWriteClockTest {
    private static final int CHUNK = 64 << 10;

    @Test
    void shouldListTheChunksWrittenAfterAnEpoch() {
        ChunkWriteClock c = new ChunkWriteClock(1 << 20, CHUNK, 10);
        c.stamp(0, 512, 11);
        c.stamp(CHUNK - 512, 1024, 12); // straddles chunks 0 and 1
        c.stamp(5L * CHUNK, 4096, 15);
        assertThat(c.changedSince(10)).containsExactly(0, 1, 5);
        assertThat(c.changedSince(11)).containsExactly(0, 1, 5);
        assertThat(c.changedSince(12)).containsExactly(5);
        assertThat(c.changedSince(15)).isEmpty();
        assertThatThrownBy(() -> c.changedSince(9)).hasMessageContaining("before this clock's record starts (10)");
    }

    @Test
    void shouldStampSeedWritesWithTheEpochThatCommitsThemAndRestartTheRecordOnlyAfterAFullCopy() {
        ChunkWriteClock c = new ChunkWriteClock(1 << 20, CHUNK, 3);
        c.markPending(2L * CHUNK, 10);
        assertThat(c.changedSince(100)).as("pending is after every epoch").containsExactly(2);
        c.stampPending(20, false);
        assertThat(c.changedSince(19)).containsExactly(2);
        assertThat(c.changedSince(20)).isEmpty();
        assertThat(c.knownSince()).as("a partial resync keeps the record complete").isEqualTo(3);
        c.reset();
        c.markPending(0, 10);
        c.stampPending(30, true);
        assertThat(c.knownSince()).isEqualTo(30);
        assertThat(c.changedSince(29 + 1)).isEmpty();
    }

    @Test
    void shouldTreatUnknownChunksAsChangedSinceEverything() {
        ChunkWriteClock c = new ChunkWriteClock(3L * CHUNK + 512, CHUNK, 0);
        c.markUnknown(3L * CHUNK, 512);
        c.stamp(3L * CHUNK, 512, 4); // a later partial write does not make it known
        assertThat(c.chunks()).isEqualTo(4);
        assertThat(c.changedSince(1_000_000)).containsExactly(3);
        c.stamp(10L * CHUNK, 512, 4); // past the end: ignored
    }
}
