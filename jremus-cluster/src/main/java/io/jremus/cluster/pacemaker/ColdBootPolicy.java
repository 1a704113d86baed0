package io.jremus.cluster.pacemaker;

import io.jremus.replication.disk.DiskSyncMeta;
import io.jremus.replication.disk.DiskSyncTracker;
import io.jremus.vmm.Vm;
import io.jremus.vmm.config.DiskConfig;
import io.jremus.vmm.config.VmConfig;
import io.jremus.vmm.devices.virtio.VirtioMmioTransport;
import io.jremus.vmm.devices.virtio.blk.VirtioBlkDevice;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.function.Consumer;

/**
 * When a promoted standby that holds no committed checkpoint may boot the VM from its own disk.
 * Pacemaker's promotion scores prefer a node with a checkpoint, but when none has one (a whole
 * cluster restarted, or the primary and its backup both lost) the scores cannot tell a stale
 * disk from the newest one; booting the stale one would silently drop acknowledged writes.
 *
 * <p>The rule, as DRBD's "outdated" disk state: a disk never replicated (no
 * {@code .jremus-sync} file) may boot; a replicated disk may boot only on the node that was its
 * last primary and stopped it with no backup holding a newer state, which that node records in a
 * {@code .jremus-clean-stop} file beside the disk (lineage and epoch, durable). Any other case is
 * refused with the way out: an operator who knows a copy is the newest deletes its
 * {@code .jremus-sync} file.
 */
public final class ColdBootPolicy {
    static final String CLEAN_STOP_SUFFIX = ".jremus-clean-stop";

    private ColdBootPolicy() {
    }

    /** Why this node must not boot the VM from its disks, or null if it may. */
    public static String refusal(VmConfig config) {
        for (DiskConfig d : config.disks()) {
            Path meta = DiskSyncMeta.pathFor(d.path());
            if (!Files.exists(meta)) continue;
            DiskSyncMeta m = DiskSyncTracker.readMeta(d.path(), w -> { });
            String mark = readMark(d.path());
            if (m.known() && mark != null && mark.equals(markOf(m))) continue;
            return "disk " + d.path() + " is a replica (" + (m.known() ? "lineage " + m.lineage() + ", synced at epoch " + m.syncedEpoch()
                    : "its copy is incomplete") + ") and this node was not its last primary: another node may hold newer data. "
                    + "If this copy is known to be the newest, delete " + meta + " and promote again";
        }
        return null;
    }

    /** Installs a disk tracker on every disk of a VM about to boot cold, so no write goes unrecorded. */
    static long trackDisks(Vm vm, Consumer<String> status) throws IOException {
        long open = 0;
        int d = 0;
        for (VirtioMmioTransport t : vm.virtioTransports()) {
            if (t.device() instanceof VirtioBlkDevice blk) {
                DiskSyncTracker tracker = DiskSyncTracker.openForPrimary(vm.config().disks().get(d++).path(), blk.capacitySectors() * 512, status);
                tracker.attach(blk);
                open = Math.max(open, tracker.openEpoch() - 1);
            }
        }
        return open;
    }

    /** This node stopped the VM as its primary with no backup holding a newer state. */
    static void markCleanStop(VmConfig config, Consumer<String> status) {
        for (DiskConfig d : config.disks()) {
            DiskSyncMeta m = DiskSyncTracker.readMeta(d.path(), status);
            if (!m.known()) continue;
            Path mark = markPath(d.path());
            Path tmp = mark.resolveSibling(mark.getFileName() + ".tmp");
            try {
                Files.writeString(tmp, markOf(m) + "\n", StandardCharsets.UTF_8);
                try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                    c.force(true);
                }
                Files.move(tmp, mark, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                status.accept("could not record the clean stop of " + d.path() + ": " + e.getMessage());
            }
        }
    }

    /** The VM runs again (here or elsewhere): the disk is no longer a stopped primary's. */
    static void clearCleanStop(VmConfig config, Consumer<String> status) {
        for (DiskConfig d : config.disks()) {
            try {
                Files.deleteIfExists(markPath(d.path()));
            } catch (IOException e) {
                status.accept("could not remove " + markPath(d.path()) + ": " + e.getMessage());
            }
        }
    }

    private static String markOf(DiskSyncMeta m) {
        return m.lineage() + " " + m.syncedEpoch();
    }

    private static Path markPath(Path image) {
        return image.resolveSibling(image.getFileName() + CLEAN_STOP_SUFFIX);
    }

    private static String readMark(Path image) {
        try {
            return Files.readString(markPath(image), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return null;
        }
    }
}
