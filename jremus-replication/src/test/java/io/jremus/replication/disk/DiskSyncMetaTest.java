package io.jremus.replication.disk;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DiskSyncMetaTest {
    @TempDir
    Path dir;

    @Test
    void shouldReadBackExactlyWhatWasWritten() throws Exception {
        DiskSyncMeta m = new DiskSyncMeta(UUID.randomUUID(), 1234, new long[]{0, 7, 4096}, 1 << 20, UUID.randomUUID(), 99);
        Path f = DiskSyncMeta.pathFor(dir.resolve("disk.img"));
        m.write(f);
        assertThat(f.getFileName().toString()).isEqualTo("disk.img.jremus-sync");
        assertThat(DiskSyncMeta.read(f)).contains(m);
        assertThat(Files.exists(dir.resolve("disk.img.jremus-sync.tmp"))).as("no temporary left behind").isFalse();
        DiskSyncMeta unknown = DiskSyncMeta.unknown();
        unknown.write(f);
        assertThat(DiskSyncMeta.read(f)).contains(unknown);
    }

    @Test
    void shouldReadAMissingFileAsAbsent() throws Exception {
        assertThat(DiskSyncMeta.read(dir.resolve("none.jremus-sync"))).isEmpty();
    }

    @Test
    void shouldRefuseCorruptFilesSayingWhichAndWhyAndFallBackToAFullCopy() throws Exception {
        Path image = dir.resolve("disk.img");
        Path f = DiskSyncMeta.pathFor(image);
        String good = new DiskSyncMeta(UUID.randomUUID(), 5, new long[]{1, 2}, 1 << 20, null, -1).toJson();
        for (String bad : List.of(good.substring(0, good.length() / 2), "garbage", good.replace("\"syncedEpoch\":5", "\"syncedEpoch\":-7"),
                good.replace("[1,2]", "[2,1]"), good.replace("\"format\":1", "\"format\":9"), good.replace("lineage\":\"", "lineage\":\"x"),
                good.replace("\"extentBytes\":1048576", "\"extentBytes\":1000"), good + "{}", good.replace(",\"parentEpoch\":-1", ""))) {
            Files.writeString(f, bad, StandardCharsets.UTF_8);
            assertThatThrownBy(() -> DiskSyncMeta.read(f)).as(bad).isInstanceOf(DiskSyncMetaException.class)
                    .hasMessageContaining(f.toString()).hasMessageContaining("full");
            List<String> warnings = new ArrayList<>();
            assertThat(DiskSyncTracker.readMeta(image, warnings::add)).isEqualTo(DiskSyncMeta.unknown());
            assertThat(warnings).hasSize(1);
        }
    }
}
