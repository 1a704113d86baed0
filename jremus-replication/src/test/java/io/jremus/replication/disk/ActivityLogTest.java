package io.jremus.replication.disk;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** "Crash" = read the file back at any point: it must cover every extent written after its synced epoch. */
class ActivityLogTest {
    private static final long MIB = 1 << 20;
    @TempDir
    Path dir;
    private final AtomicLong now = new AtomicLong();

    private ActivityLog open(Path f, DiskSyncMeta start) {
        return new ActivityLog(f, start, Duration.ofSeconds(1), now::get);
    }

    private static DiskSyncMeta crash(Path f) throws Exception {
        return DiskSyncMeta.read(f).orElseThrow();
    }

    @Test
    void shouldMakeAnExtentHotDurablyBeforeTheWriteAndOnlyOnce() throws Exception {
        Path f = dir.resolve("d.jremus-sync");
        UUID lineage = UUID.randomUUID();
        ActivityLog al = open(f, new DiskSyncMeta(lineage, 10, new long[0], MIB, null, -1));
        al.beforeWrite(3 * MIB + 100, 512, 11);
        DiskSyncMeta m = crash(f);
        assertThat(m.syncedEpoch()).isEqualTo(10);
        assertThat(m.activityLog()).containsExactly(3);
        assertThat(m.lineage()).isEqualTo(lineage);
        long persists = al.persists();
        for (int i = 0; i < 100; i++) al.beforeWrite(3 * MIB + i * 4096L, 4096, 11);
        assertThat(al.persists()).as("writes to a hot extent cost no fsync").isEqualTo(persists);
        al.beforeWrite(5 * MIB - 512, 1024, 12); // straddles extents 4 and 5
        assertThat(crash(f).activityLog()).containsExactly(3, 4, 5);
    }

    @Test
    void shouldDropAcknowledgedExtentsOnlyAfterTheyStayedColdAndRewriteAtMostOncePerInterval() throws Exception {
        Path f = dir.resolve("d.jremus-sync");
        ActivityLog al = open(f, new DiskSyncMeta(UUID.randomUUID(), 0, new long[0], MIB, null, -1));
        al.beforeWrite(0, 512, 1);
        al.beforeWrite(MIB, 512, 2);
        al.acked(1);
        al.maybeFlush();
        assertThat(crash(f).activityLog()).as("not rewritten within the interval").containsExactly(0, 1);
        assertThat(crash(f).syncedEpoch()).isEqualTo(0);
        now.addAndGet(Duration.ofMillis(500).toNanos());
        al.beforeWrite(100, 512, 3); // extent 0 written again while still in the set: no rewrite
        long persists = al.persists();
        now.addAndGet(Duration.ofMillis(600).toNanos());
        al.acked(2);
        al.maybeFlush();
        assertThat(al.persists()).isEqualTo(persists + 1);
        assertThat(crash(f).syncedEpoch()).isEqualTo(2);
        assertThat(crash(f).activityLog()).as("extent 1 cooled only now; extent 0 was rewritten in epoch 3").containsExactly(0, 1);
        now.addAndGet(Duration.ofSeconds(1).toNanos());
        al.acked(3);
        al.maybeFlush();
        assertThat(crash(f).activityLog()).as("extent 1 stayed cold for the interval").containsExactly(0);
        al.flush();
        assertThat(crash(f).activityLog()).isEmpty();
        assertThat(crash(f).syncedEpoch()).isEqualTo(3);
    }

    @Test
    void shouldNotRewriteTheFileForEachWriteOfAGuestAppendingToOneExtent() throws Exception {
        Path f = dir.resolve("d.jremus-sync");
        ActivityLog al = open(f, new DiskSyncMeta(UUID.randomUUID(), 0, new long[0], MIB, null, -1));
        for (long epoch = 1; epoch <= 400; epoch++) { // 10 s of 25 ms epochs, a write per epoch, each acked before the next
            al.beforeWrite(epoch * 100, 512, epoch);
            now.addAndGet(Duration.ofMillis(25).toNanos());
            al.acked(epoch);
            al.maybeFlush();
        }
        assertThat(al.persists()).as("one rewrite for the new extent, then at most one a second").isLessThanOrEqualTo(11);
    }

    @Test
    void shouldCoverEveryWriteSinceTheSyncedEpochAtEveryCrashPoint() throws Exception {
        Path f = dir.resolve("d.jremus-sync");
        ActivityLog al = open(f, new DiskSyncMeta(UUID.randomUUID(), 0, new long[0], MIB, null, -1));
        java.util.Random r = new java.util.Random(7);
        long[] lastWrite = new long[64]; // per extent, epoch of the last write (0 = none)
        long acked = 0;
        for (long epoch = 1; epoch <= 200; epoch++) {
            for (int w = 0; w < 5; w++) {
                int x = r.nextInt(64);
                al.beforeWrite(x * MIB + r.nextInt(1000) * 512L, 512, epoch);
                lastWrite[x] = epoch;
                DiskSyncMeta m = crash(f);
                for (int e = 0; e < 64; e++) {
                    if (lastWrite[e] > m.syncedEpoch()) {
                        assertThat(m.activityLog()).as("extent " + e + " written in " + lastWrite[e] + " after synced " + m.syncedEpoch()).contains(e);
                    }
                }
            }
            if (r.nextInt(3) == 0 && acked < epoch - 1) {
                acked = epoch - 1 - r.nextInt(2);
                al.acked(acked);
                now.addAndGet(300_000_000L);
                al.maybeFlush();
            }
        }
        assertThat(crash(f).syncedEpoch()).isLessThanOrEqualTo(acked);
    }

    @Test
    void shouldKeepInheritedExtentsHotUntilAnEpochAfterTheRestartIsAcknowledged() throws Exception {
        Path f = dir.resolve("d.jremus-sync");
        ActivityLog al = open(f, new DiskSyncMeta(UUID.randomUUID(), 50, new long[]{2, 9}, MIB, null, -1));
        al.acked(50);
        al.flush();
        assertThat(al.hotExtents()).isEqualTo(2);
        al.acked(51);
        al.flush();
        assertThat(al.hotExtents()).isZero();
    }
}
