package io.jremus.replication.disk;

import static org.assertj.core.api.Assertions.assertThat;

import io.jremus.vmm.devices.virtio.blk.VirtioBlk;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Primary and backup disk paths joined without a network: a real virtio-blk device writes the
 * primary's image and reports to a ReplicatingBlockListener, whose closed epochs feed the
 * backup's EpochDiskBuffer as the stream will.
 */
class DiskReplicationEndToEndTest {
    static final int DISK = 128 * 1024;

    @TempDir
    Path dir;

    @Test
    void shouldMakeTheBackupImageEqualThePrimarysOnlyAfterCommit() throws Exception {
        Path primary = dir.resolve("primary.img");
        Path backup = dir.resolve("backup.img");
        byte[] seed = new byte[DISK];
        for (int i = 0; i < DISK; i++) seed[i] = (byte) (i / 512);
        Files.write(primary, seed);
        Files.write(backup, seed); // seeded: both hold checkpoint 0

        try (FileDiskImage backupDisk = FileDiskImage.open(backup)) {
            EpochDiskBuffer receiver = new EpochDiskBuffer(backupDisk, 0, 1 << 20);
            DiskWriteSink stream = (epoch, writes) -> {
                for (DiskWrite w : writes) {
                    try {
                        receiver.add(epoch, w.sector(), w.segment());
                    } catch (DiskReplicationException e) {
                        throw new AssertionError(e);
                    }
                }
            };
            ReplicatingBlockListener listener = new ReplicatingBlockListener(DISK, 1 << 20, stream, () -> { }, 1);
            try (BlkGuest guest = new BlkGuest(primary, listener)) {
                byte[] a = new byte[4096];
                Arrays.fill(a, (byte) 0xA5);
                byte[] b = new byte[512];
                Arrays.fill(b, (byte) 0x5A);
                assertThat(guest.write(16, a)).isEqualTo(VirtioBlk.S_OK);
                assertThat(guest.write(100, b)).isEqualTo(VirtioBlk.S_OK);
                assertThat(guest.write(18, b)).isEqualTo(VirtioBlk.S_OK); // inside the first write
                assertThat(guest.flush()).isEqualTo(VirtioBlk.S_OK);

                long epoch = listener.postSuspend(); // checkpoint 1 streamed, not yet committed
                assertThat(Files.readAllBytes(backup)).as("before commit the backup holds checkpoint 0").isEqualTo(seed);
                assertThat(Files.readAllBytes(primary)).isNotEqualTo(seed);

                assertThat(receiver.commit(epoch)).isEqualTo(3);
                byte[] afterOne = Files.readAllBytes(primary);
                assertThat(Files.readAllBytes(backup)).isEqualTo(afterOne);

                // Epoch 2 is cut off before its end (the primary dies): the backup stays at 1.
                assertThat(guest.write(0, a)).isEqualTo(VirtioBlk.S_OK);
                long partial = listener.postSuspend();
                receiver.discard(partial);
                assertThat(Files.readAllBytes(backup)).isEqualTo(afterOne);
                assertThat(receiver.committedEpoch()).isEqualTo(1);
            }
        }
    }

    @Test
    void shouldStreamEveryWriteOfAnEpochEvenWhenTheGuestRewritesTheSameBlocks() throws Exception {
        Path primary = dir.resolve("p.img");
        Path backup = dir.resolve("b.img");
        Files.write(primary, new byte[DISK]);
        Files.write(backup, new byte[DISK]);
        try (FileDiskImage backupDisk = FileDiskImage.open(backup)) {
            EpochDiskBuffer receiver = new EpochDiskBuffer(backupDisk, 0, 1 << 20);
            List<DiskWrite>[] last = new List[1];
            ReplicatingBlockListener listener = new ReplicatingBlockListener(DISK, 1 << 20, (e, w) -> last[0] = w,
                    () -> { }, 1);
            try (BlkGuest guest = new BlkGuest(primary, listener)) {
                for (int round = 0; round < 20; round++) {
                    byte[] data = new byte[1024];
                    Arrays.fill(data, (byte) round);
                    guest.write(round % 3 * 2L, data);
                    if (round % 4 == 3) {
                        long epoch = listener.postSuspend();
                        for (DiskWrite w : last[0]) receiver.add(epoch, w);
                        receiver.commit(epoch);
                        assertThat(Files.readAllBytes(backup)).isEqualTo(Files.readAllBytes(primary));
                    }
                }
            }
        }
    }
}
