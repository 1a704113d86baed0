package io.jremus.replication.disk;

import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

class ResyncPlanTest {
    private static final int CHUNK = 64 << 10;
    private static final long MIB = 1 << 20;
    private final UUID lineage = UUID.randomUUID();
    private final UUID parent = UUID.randomUUID();
    private final ChunkWriteClock clock = new ChunkWriteClock(64 * MIB, CHUNK, 100);

    private ResyncPlan plan(DiskSyncMeta backup) {
        return ResyncPlan.compute(0, lineage, parent, 90, clock, 200, backup);
    }

    private DiskSyncMeta backup(UUID l, long synced, long... al) {
        return new DiskSyncMeta(l, synced, al, MIB, null, -1);
    }

    @Test
    void shouldSendOnlyChunksChangedSinceTheBackupsEpochPlusItsActivityLog() {
        clock.stamp(0, 4096, 120);
        clock.stamp(10 * MIB, 4096, 150);
        ResyncPlan p = plan(backup(lineage, 130, 3));
        assertThat(p.full()).isFalse();
        long firstOfExtent3 = 3 * MIB / CHUNK;
        long[] expected = new long[17];
        for (int i = 0; i < 16; i++) expected[i] = firstOfExtent3 + i;
        expected[16] = 10 * MIB / CHUNK;
        assertThat(p.chunks()).containsExactly(expected);
        assertThat(p.bytes()).isEqualTo(17L * CHUNK);
        assertThat(p.describe()).startsWith("resync disk 0: 17 chunks (1088 KiB) of 64 MiB, since epoch 130");
        assertThat(plan(backup(lineage, 120)).chunks()).containsExactly(10 * MIB / CHUNK);
        assertThat(plan(backup(lineage, 100)).chunks()).containsExactly(0, 10 * MIB / CHUNK);
        assertThat(plan(backup(lineage, 200)).chunks()).isEmpty();
    }

    @Test
    void shouldCopyInFullWhenTheBackupsCopyCannotBeTrusted() {
        assertThat(plan(DiskSyncMeta.unknown()).full()).isTrue();
        assertThat(plan(backup(UUID.randomUUID(), 150)).reason()).contains("lineage");
        assertThat(plan(backup(lineage, 99)).reason()).contains("older than this primary's record of changes (from epoch 100)");
        assertThat(plan(backup(lineage, 201)).reason()).contains("ahead");
        assertThat(plan(backup(lineage, 150)).full()).isFalse();
        assertThat(plan(backup(UUID.randomUUID(), 150)).describe()).startsWith("disk 0: full copy of 64 MiB");
    }

    @Test
    void shouldAcceptACopyOfTheParentLineageUpToTheForkOnly() {
        ChunkWriteClock c = new ChunkWriteClock(64 * MIB, CHUNK, 80);
        assertThat(ResyncPlan.compute(0, lineage, parent, 90, c, 200, backup(parent, 85)).full()).isFalse();
        assertThat(ResyncPlan.compute(0, lineage, parent, 90, c, 200, backup(parent, 91)).full()).isTrue();
    }
}
