package io.jremus.replication.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jremus.replication.disk.DiskReplicationException.Kind;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EpochDiskBufferTest {
    static final long SECTORS = 128;

    /** A disk that records every call, in order, and can be made to fail. */
    static final class RecordingImage implements DiskImage {
        final List<String> calls = new ArrayList<>();
        final byte[] bytes = new byte[(int) (SECTORS * 512)];
        boolean failWrites;

        @Override
        public long sizeBytes() {
            return bytes.length;
        }

        @Override
        public void write(long offset, ByteBuffer data) throws IOException {
            if (failWrites) throw new IOException("EIO (test)");
            calls.add("write@" + offset + "+" + data.remaining());
            data.get(bytes, (int) offset, data.remaining());
        }

        @Override
        public void sync() {
            calls.add("fdatasync");
        }

        @Override
        public void close() {
        }
    }

    @TempDir
    Path dir;
    final RecordingImage image = new RecordingImage();
    final EpochDiskBuffer buffer = new EpochDiskBuffer(image, 0, 1 << 20);

    static MemorySegment data(int length, int value) {
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) value);
        return MemorySegment.ofArray(b);
    }

    @Test
    void shouldApplyAnEpochsWritesOnlyOnCommitInOrderAndSyncBeforeReturning() throws Exception {
        buffer.add(1, 2, data(512, 0x11));
        buffer.add(1, 2, data(1024, 0x22)); // overlaps the first: arrival order decides
        assertThat(image.calls).as("nothing reaches the disk before commit").isEmpty();
        assertThat(buffer.heldBytes()).isEqualTo(1536);

        assertThat(buffer.commit(1)).isEqualTo(2);
        assertThat(image.calls).containsExactly("write@1024+512", "write@1024+1024", "fdatasync");
        assertThat(Arrays.copyOfRange(image.bytes, 1024, 2048)).containsOnly(0x22);
        assertThat(buffer.committedEpoch()).isEqualTo(1);
        assertThat(buffer.heldBytes()).isZero();
    }

    @Test
    void shouldCopyTheDataItIsGivenSoTheCallersBufferMayBeReused() throws Exception {
        MemorySegment reused = data(512, 0x33);
        buffer.add(1, 0, reused);
        reused.fill((byte) 0x44);
        buffer.commit(1);
        assertThat(Arrays.copyOfRange(image.bytes, 0, 512)).containsOnly(0x33);
    }

    @Test
    void shouldCommitAnEpochWithoutWritesWithoutTouchingTheDisk() throws Exception {
        assertThat(buffer.commit(1)).isZero();
        assertThat(image.calls).isEmpty();
        assertThat(buffer.committedEpoch()).isEqualTo(1);
    }

    @Test
    void shouldLeaveTheDiskFileByteForByteUnchangedWhenAnEpochIsDiscarded() throws Exception {
        Path file = dir.resolve("backup.img");
        byte[] original = new byte[(int) (SECTORS * 512)];
        for (int i = 0; i < original.length; i++) original[i] = (byte) (i * 7 + i / 512);
        Files.write(file, original);
        try (FileDiskImage disk = FileDiskImage.open(file)) {
            EpochDiskBuffer b = new EpochDiskBuffer(disk, 4, 1 << 20);
            b.add(5, 0, data(4096, 0xEE));
            b.add(5, SECTORS - 1, data(512, 0xEE));
            assertThat(b.discard(5)).isEqualTo(2);
            assertThat(b.committedEpoch()).isEqualTo(4);
            assertThat(b.commit(5)).as("epoch 5 is open again, empty").isZero();
        }
        assertThat(Files.readAllBytes(file)).isEqualTo(original);
    }

    @Test
    void shouldRefuseWritesOutsideTheDiskWithAClearError() {
        assertRefused(() -> buffer.add(1, SECTORS, data(512, 1)), "at sector 128", "the disk has 128 sectors");
        assertRefused(() -> buffer.add(1, SECTORS - 1, data(1024, 1)), "1024 bytes at sector 127");
        assertRefused(() -> buffer.add(1, -1, data(512, 1)), "at sector 18446744073709551615");
        assertRefused(() -> buffer.add(1, Long.MAX_VALUE / 256, data(512, 1)), "the disk has 128 sectors");
        assertThat(buffer.heldWrites()).isZero();
    }

    @Test
    void shouldRefuseLengthsThatAreNotAPositiveMultipleOf512() {
        assertRefused(() -> buffer.add(1, 0, data(100, 1)), "length 100 is not a positive multiple of 512");
        assertRefused(() -> buffer.add(1, 0, data(0, 1)), "length 0");
        assertRefused(() -> buffer.add(1, 0, data(513, 1)), "length 513");
    }

    @Test
    void shouldRefuseWritesAndCommitsForAnyEpochButTheOpenOne() throws Exception {
        assertRefused(() -> buffer.add(2, 0, data(512, 1)), "epoch 2 refused: epoch 1 is open (last committed 0)");
        assertRefused(() -> buffer.add(0, 0, data(512, 1)), "epoch 0 refused");
        assertRefused(() -> buffer.commit(2), "commit of epoch 2 refused");
        buffer.commit(1);
        assertRefused(() -> buffer.commit(1), "commit of epoch 1 refused: the open epoch is 2");
        assertRefused(() -> buffer.add(1, 0, data(512, 1)), "epoch 1 refused: epoch 2 is open");
        assertRefused(() -> buffer.discard(1), "discard of epoch 1 refused");
    }

    @Test
    void shouldRefuseAnEpochThatBringsMoreThanItsMemoryLimit() throws Exception {
        EpochDiskBuffer small = new EpochDiskBuffer(image, 0, 2048);
        small.add(1, 0, data(1536, 1));
        assertThatThrownBy(() -> small.add(1, 4, data(1024, 1))).isInstanceOf(DiskReplicationException.class)
                .hasMessageContaining("already holds 1536 bytes, limit 2048");
        assertThat(image.calls).isEmpty();
    }

    @Test
    void shouldRefuseAllFurtherWorkOnceACommitFailedOnTheDisk() throws Exception {
        buffer.add(1, 0, data(512, 1));
        image.failWrites = true;
        assertThatThrownBy(() -> buffer.commit(1)).isInstanceOfSatisfying(DiskReplicationException.class, e -> {
            assertThat(e.kind()).isEqualTo(Kind.DISK_FAILED);
            assertThat(e.getMessage()).contains("writing 512 bytes at sector 0", "needs a resync");
        });
        assertThat(buffer.failed()).isTrue();
        assertThat(buffer.committedEpoch()).isZero();
        image.failWrites = false;
        assertThatThrownBy(() -> buffer.commit(1)).isInstanceOfSatisfying(DiskReplicationException.class,
                e -> assertThat(e.kind()).isEqualTo(Kind.DISK_FAILED));
    }

    interface Call {
        void run() throws Exception;
    }

    private static void assertRefused(Call call, String... messageParts) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(DiskReplicationException.class, e -> {
            assertThat(e.kind()).isEqualTo(Kind.BAD_INPUT);
            assertThat(e.getMessage()).contains(messageParts);
        });
    }
}
