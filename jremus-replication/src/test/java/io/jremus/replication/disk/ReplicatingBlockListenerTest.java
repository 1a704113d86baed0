package io.jremus.replication.disk;

import static org.assertj.core.api.Assertions.assertThat;

import io.jremus.vmm.devices.virtio.blk.VirtioBlk;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplicatingBlockListenerTest {
    static final int DISK = 256 * 1024;

    record Epoch(long epoch, List<DiskWrite> writes) {
    }

    @TempDir
    Path dir;
    final List<Epoch> closed = new ArrayList<>();
    int pressureCalls;
    ReplicatingBlockListener listener;
    BlkGuest guest;

    @BeforeEach
    void setUp() throws IOException {
        Path image = dir.resolve("primary.img");
        Files.write(image, new byte[DISK]);
        listener = new ReplicatingBlockListener(DISK, 8192, (e, w) -> closed.add(new Epoch(e, w)), () -> pressureCalls++, 1);
        guest = new BlkGuest(image, listener);
    }

    @AfterEach
    void tearDown() {
        guest.close();
    }

    static byte[] filled(int length, int value) {
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) value);
        return b;
    }

    @Test
    void shouldCaptureEachEpochsWritesWithTheirSectorsAndData() {
        assertThat(guest.write(3, filled(1024, 0xA1))).isEqualTo(VirtioBlk.S_OK);
        assertThat(guest.write(40, filled(512, 0xB2))).isEqualTo(VirtioBlk.S_OK);
        assertThat(listener.postSuspend()).isEqualTo(1);
        assertThat(guest.write(7, filled(512, 0xC3))).isEqualTo(VirtioBlk.S_OK);
        assertThat(listener.postSuspend()).isEqualTo(2);

        assertThat(closed).extracting(Epoch::epoch).containsExactly(1L, 2L);
        List<DiskWrite> first = closed.get(0).writes();
        assertThat(first).extracting(DiskWrite::sector).containsExactly(3L, 40L);
        assertThat(first.get(0).toArray()).isEqualTo(filled(1024, 0xA1));
        assertThat(first.get(1).toArray()).isEqualTo(filled(512, 0xB2));
        assertThat(closed.get(1).writes()).extracting(DiskWrite::sector).containsExactly(7L);
    }

    @Test
    void shouldKeepACapturedWriteUnchangedWhenTheGuestWritesTheSameSectorAgain() {
        guest.write(5, filled(512, 0x11));
        guest.write(5, filled(512, 0x22)); // same sector, same guest buffer reused
        listener.postSuspend();
        List<DiskWrite> writes = closed.get(0).writes();
        assertThat(writes).hasSize(2);
        assertThat(writes.get(0).toArray()).as("the first write keeps its own data").isEqualTo(filled(512, 0x11));
        assertThat(writes.get(1).toArray()).isEqualTo(filled(512, 0x22));
    }

    @Test
    void shouldGrowBytesPendingWithEachWriteAndDrainItAtPostSuspend() {
        assertThat(listener.bytesPending()).isZero();
        guest.write(0, filled(1024, 1));
        guest.write(8, filled(2048, 2));
        assertThat(listener.bytesPending()).isEqualTo(3072);
        assertThat(listener.writesPending()).isEqualTo(2);
        guest.flush();
        assertThat(listener.bytesPending()).as("a flush carries no data").isEqualTo(3072);
        listener.postSuspend();
        assertThat(listener.bytesPending()).isZero();
        assertThat(listener.writesPending()).isZero();
        assertThat(listener.metrics().maxEpochBytes()).isEqualTo(3072);
        assertThat(listener.metrics().flushes()).isEqualTo(1);
    }

    @Test
    void shouldAskForAnEarlyCheckpointOncePerEpochPastTheBudgetAndDropNoWrite() {
        for (int i = 0; i < 6; i++) assertThat(guest.write(i * 4L, filled(2048, i))).isEqualTo(VirtioBlk.S_OK);
        // 12 KiB against an 8 KiB budget: one request, every write kept.
        assertThat(pressureCalls).isEqualTo(1);
        assertThat(listener.bytesPending()).isEqualTo(6 * 2048);
        listener.postSuspend();
        assertThat(closed.get(0).writes()).hasSize(6);
        assertThat(listener.metrics().overBudgetEpochs()).isEqualTo(1);

        for (int i = 0; i < 5; i++) guest.write(i * 4L, filled(2048, i));
        assertThat(pressureCalls).as("a new epoch may ask again").isEqualTo(2);
    }

    @Test
    void shouldHandTheSinkAnEpochWithoutWritesToo() {
        listener.postSuspend();
        assertThat(closed).containsExactly(new Epoch(1, List.of()));
    }
}
