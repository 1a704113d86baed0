package io.jremus.replication.remus;

import io.jremus.vmm.memory.GuestMemory;
import io.jremus.vmm.memory.MemoryRegion;
import io.jremus.vmm.snapshot.MemoryImage;
import io.jremus.vmm.snapshot.SnapshotException;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * The backup's copy of guest RAM as of the last committed checkpoint, loadable into a fresh VM
 * at failover. Only the receiver writes it, and only when an epoch is complete and valid.
 */
final class CommittedImage implements MemoryImage {
    private final ShadowMemory ram;

    CommittedImage(ShadowMemory ram) {
        this.ram = ram;
    }

    @Override
    public void loadInto(GuestMemory memory) throws SnapshotException {
        List<MemoryRegion> target = memory.regions();
        List<io.jremus.vmm.boot.RamRegion> source = ram.layout();
        if (target.size() != source.size()) {
            throw new SnapshotException(SnapshotException.Kind.MISMATCH, "committed image has " + source.size()
                    + " RAM regions, the VM " + target.size());
        }
        for (int i = 0; i < target.size(); i++) {
            if (target.get(i).guestAddress() != source.get(i).guestAddress() || target.get(i).size() != source.get(i).size()) {
                throw new SnapshotException(SnapshotException.Kind.MISMATCH, "committed image region " + i + " differs from the VM's");
            }
            MemorySegment.copy(ram.region(i), 0, target.get(i).host(), 0, target.get(i).size());
            memory.markDirty(target.get(i).guestAddress(), target.get(i).size());
        }
    }
}
