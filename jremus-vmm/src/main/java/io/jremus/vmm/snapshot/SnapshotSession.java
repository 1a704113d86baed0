package io.jremus.vmm.snapshot;

import io.jremus.vmm.Vm;
import io.jremus.vmm.memory.DirtyPages;
import io.jremus.vmm.snapshot.format.SnapshotHeader;
import io.jremus.vmm.snapshot.format.SnapshotWriter;

import java.nio.file.Path;

/**
 * Takes the snapshots of one running VM: a FULL one, then any number of DIFFs, each holding the
 * pages dirtied since the previous snapshot (KVM's log ∪ the VMM's bitmap) and the complete
 * vCPU/VM/device state. Every snapshot, full ones included, harvests the dirty log, so the next
 * diff covers exactly what changed after it.
 *
 * <p>The session must be the VM's only harvester: anything else that harvests (the replication
 * epoch loop) takes pages away from the next diff. If writing fails, the chain is broken (the
 * harvested pages are gone) and the next snapshot must be FULL.
 */
public final class SnapshotSession {
    private final Vm vm;
    private SnapshotHeader last;

    public SnapshotSession(Vm vm) {
        this.vm = vm;
    }

    /** The newest snapshot of the chain, or null before the first. */
    public synchronized SnapshotHeader last() {
        return last;
    }

    /**
     * Writes a snapshot of the paused VM to {@code out}.
     *
     * @param incremental a DIFF against the previous snapshot of this session
     */
    public synchronized SnapshotWriter.Result take(Path out, boolean incremental, SnapshotProgress progress) throws SnapshotException {
        if (vm.machine().isStarted() && !vm.machine().isPaused()) throw new IllegalStateException("pause the VM before taking a snapshot");
        if (incremental && last == null) {
            throw new SnapshotException(SnapshotException.Kind.MISMATCH, "no snapshot taken of this VM yet: the first one must be full (not --incremental)");
        }
        SnapshotHeader parent = last;
        last = null;
        DirtyPages dirty = vm.harvestDirtyPages();
        VmSnapshotState state = vm.captureState();
        SnapshotWriter.Result r = SnapshotWriter.write(out, vm.config(), state, vm.memory(), incremental ? dirty : null,
                incremental ? parent : null, progress);
        last = r.header();
        return r;
    }
}
