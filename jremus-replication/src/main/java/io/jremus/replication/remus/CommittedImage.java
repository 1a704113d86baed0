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
    private static final MemorySegment ZERO_PAGE = java.lang.foreign.Arena.global().allocate(GuestMemory.PAGE_SIZE);
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
            // A fresh VM's RAM is already zero: copy only non-zero pages, so untouched guest memory
            // costs neither a copy nor a host page fault at takeover.
            MemorySegment from = ram.region(i);
            MemorySegment to = target.get(i).host();
            for (long off = 0; off < from.byteSize(); off += GuestMemory.PAGE_SIZE) {
                MemorySegment page = from.asSlice(off, GuestMemory.PAGE_SIZE);
                if (MemorySegment.mismatch(page, 0, GuestMemory.PAGE_SIZE, ZERO_PAGE, 0, GuestMemory.PAGE_SIZE) < 0) continue;
                MemorySegment.copy(page, 0, to, off, GuestMemory.PAGE_SIZE);
                memory.markDirty(target.get(i).guestAddress() + off, GuestMemory.PAGE_SIZE);
            }
        }
    }
}
