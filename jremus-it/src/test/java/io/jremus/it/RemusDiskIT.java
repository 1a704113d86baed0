package io.jremus.it;

import io.jremus.cli.testbed.IncrClient;
import io.jremus.cli.testbed.RemusWorld;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.zip.CRC32C;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 5 evidence (c), invariant 3 (disk): the guest's append-only log is on, one record per
 * INCR, written and flushed before the reply. The primary is killed under load; at the moment the
 * backup declared it lost (before it restores anything) its disk holds a whole log, no torn
 * record, with at least every acknowledged INCR: a committed epoch's disk. After the takeover the
 * counter is exact; then the taken-over VM is killed too and a fresh VM booted from the backup's
 * disk replays the log to exactly the acknowledged count.
 */
class RemusDiskIT {
    private static final int MAGIC = 0x314f414a;
    @TempDir
    static Path dir;
    private static RemusWorld world;

    @BeforeAll
    static void up() throws Exception {
        world = RemusWorlds.up("jrit-disk", dir);
    }

    @AfterAll
    static void down() throws Exception {
        if (world != null) world.close();
    }

    @Test
    void shouldHoldEveryAcknowledgedWriteOnTheBackupsDiskAndReplayItAfterFailover() throws Exception {
        RemusWorld.Pair pair = world.startPair(RemusWorld.PairOptions.defaults());
        pair.awaitProtected(Duration.ofSeconds(90));
        long acked;
        try (IncrClient c = world.client(Duration.ofSeconds(20))) {
            c.startPump(0);
            RemusWorlds.awaitMoreAcks(c, 40, Duration.ofSeconds(30));
            long ackedBeforeKill = c.acked();
            world.killHost("a");
            ackedBeforeKill = Math.max(ackedBeforeKill, c.acked()); // a reply may have been on the wire
            pair.backup().await(l -> l.contains("backup: primary lost"), Duration.ofSeconds(30));
            byte[] committed = readLogArea(pair.diskB());
            boolean restored = pair.backup().has("TAKEOVER");
            long records = countRecords(committed);
            assertThat(restored).as("the disk must be read before the takeover VM runs").isFalse();
            assertThat(records).as("log records on the backup's disk (committed) vs INCRs acknowledged before the kill")
                    .isGreaterThanOrEqualTo(c.base() + ackedBeforeKill);
            pair.backup().await(l -> l.contains("TAKEOVER: running epoch"), Duration.ofSeconds(30));
            RemusWorlds.awaitMoreAcks(c, 30, Duration.ofSeconds(60));
            RemusWorlds.assertExact(c, "after takeover\n--- backup log ---\n" + pair.backup().log());
            acked = c.base() + c.acked();
            System.err.printf("backup disk at loss: %d whole records (>= %d acked before the kill); after takeover counter %d exact%n",
                    records, ackedBeforeKill, acked);
        }
        world.killHost("b");
        RemusWorld.Node fresh = world.runVm("fresh-b", "b", pair.configB());
        Path serial = pair.serial("b");
        String replay = awaitSerial(serial, "aof: replayed", fresh);
        awaitSerial(serial, "redis: listening", fresh);
        assertThat(replay).contains("replayed " + acked + " records").contains("(stopped: end)");
        try (IncrClient c = world.client(Duration.ofSeconds(30))) {
            assertThat(c.base()).as("counter after replaying the backup's disk").isEqualTo(acked);
        }
        fresh.kill9();
    }

    private static String awaitSerial(Path serial, String text, RemusWorld.Node vm) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(serial)) {
                for (String l : Files.readAllLines(serial, java.nio.charset.StandardCharsets.ISO_8859_1)) if (l.contains(text)) return l;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no '" + text + "' on the fresh VM's console\n" + vm.log());
    }

    private static byte[] readLogArea(Path disk) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "r")) {
            byte[] b = new byte[4 << 20];
            f.readFully(b);
            return b;
        }
    }

    /** Whole records of the guest's log (guest/README.md), failing on a torn or corrupt one. */
    static long countRecords(byte[] disk) {
        ByteBuffer b = ByteBuffer.wrap(disk).order(ByteOrder.LITTLE_ENDIAN);
        long n = 0;
        int off = 0;
        while (off + 16 <= disk.length) {
            int magic = b.getInt(off);
            if (magic == 0) {
                for (int i = off; i < Math.min(disk.length, off + 4096); i++) {
                    assertThat(disk[i]).as("zero padding after the last record at " + off).isZero();
                }
                return n;
            }
            assertThat(magic).as("record magic at " + off).isEqualTo(MAGIC);
            int len = b.getInt(off + 4);
            assertThat(off + 16 + len).as("record at " + off + " runs past the area read").isLessThanOrEqualTo(disk.length);
            CRC32C crc = new CRC32C();
            crc.update(disk, off, 12);
            crc.update(disk, off + 16, len);
            assertThat((int) crc.getValue()).as("CRC of the record at " + off + " (a torn write?)").isEqualTo(b.getInt(off + 12));
            off += 16 + len;
            n++;
        }
        return n;
    }
}
