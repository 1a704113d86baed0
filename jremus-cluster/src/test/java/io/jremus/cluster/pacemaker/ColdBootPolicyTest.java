package io.jremus.cluster.pacemaker;

import io.jremus.replication.disk.DiskSyncMeta;
import io.jremus.vmm.config.DiskConfig;
import io.jremus.vmm.config.SerialConfig;
import io.jremus.vmm.config.VmConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

class ColdBootPolicyTest {
    @TempDir
    Path dir;

    private VmConfig config(Path disk) {
        return new VmConfig("vm", 64L << 20, 1, dir.resolve("kernel"), Optional.empty(), "", new SerialConfig.None(), List.of(),
                List.of(new DiskConfig(disk, false)));
    }

    @Test
    void aDiskNeverReplicatedMayBoot() throws Exception {
        Path disk = Files.createFile(dir.resolve("d.img"));
        assertThat(ColdBootPolicy.refusal(config(disk))).isNull();
    }

    @Test
    void aReplicaRefusesUnlessThisNodeStoppedItLastAsPrimary() throws Exception {
        Path disk = Files.createFile(dir.resolve("d.img"));
        VmConfig cfg = config(disk);
        DiskSyncMeta synced = new DiskSyncMeta(UUID.randomUUID(), 812, new long[0], DiskSyncMeta.DEFAULT_EXTENT_BYTES, null, -1);
        synced.write(DiskSyncMeta.pathFor(disk));
        assertThat(ColdBootPolicy.refusal(cfg)).contains("is a replica").contains("synced at epoch 812")
                .contains("delete " + DiskSyncMeta.pathFor(disk));

        List<String> said = new ArrayList<>();
        ColdBootPolicy.markCleanStop(cfg, said::add);
        assertThat(said).isEmpty();
        assertThat(ColdBootPolicy.refusal(cfg)).as("its last primary, stopped cleanly").isNull();

        // The disk moved on (a seed, a new epoch recorded): the old mark no longer vouches for it.
        new DiskSyncMeta(synced.lineage(), 900, new long[0], DiskSyncMeta.DEFAULT_EXTENT_BYTES, null, -1).write(DiskSyncMeta.pathFor(disk));
        assertThat(ColdBootPolicy.refusal(cfg)).contains("is a replica");

        ColdBootPolicy.markCleanStop(cfg, said::add);
        ColdBootPolicy.clearCleanStop(cfg, said::add); // the VM ran again somewhere
        assertThat(ColdBootPolicy.refusal(cfg)).contains("is a replica");
    }

    @Test
    void aHalfSeededCopyRefuses() throws Exception {
        Path disk = Files.createFile(dir.resolve("d.img"));
        DiskSyncMeta.unknown().write(DiskSyncMeta.pathFor(disk)); // the record a seed leaves before its first write
        assertThat(ColdBootPolicy.refusal(config(disk))).contains("its copy is incomplete");
    }
}
