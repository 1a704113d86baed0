package io.jremus.vmm.memory;

import io.jremus.vmm.kvm.KvmVm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Harvests dirty pages: KVM's dirty log (vCPU stores) united with the VMM's bitmap (device and
 * boot-time stores), architecture invariant 4. Each harvest resets both, so consecutive
 * harvests partition time: a page written between two harvests is in exactly the second.
 *
 * <p>For an exact set the vCPUs must be paused and the device threads quiesced: stores made
 * through GuestMemory's put and write methods are marked after they land and are safe to race,
 * but a device writing through a {@link GuestMemory#sliceForWrite} view was marked before its
 * stores, so a harvest in between would miss them. Not thread-safe: one harvester at a time.
 */
public final class DirtyTracker {
    private final KvmVm vm;
    private final GuestMemory memory;
    private final MemorySegment[] kvmBitmaps;
    private final MemorySegment dirtyLogArg;

    public DirtyTracker(KvmVm vm, GuestMemory memory, Arena arena) {
        this.vm = vm;
        this.memory = memory;
        this.kvmBitmaps = new MemorySegment[memory.regions().size()];
        for (int i = 0; i < kvmBitmaps.length; i++) {
            long words = (memory.regions().get(i).pages() + 63) / 64;
            kvmBitmaps[i] = arena.allocate(words * 8, 8);
        }
        this.dirtyLogArg = arena.allocate(16, 8);
    }

    /** Returns the pages dirtied since the previous harvest (or since RAM was registered). */
    public DirtyPages harvest() {
        var regions = memory.regions();
        long[][] out = new long[regions.size()][];
        for (int i = 0; i < regions.size(); i++) {
            MemoryRegion r = regions.get(i);
            MemorySegment kb = kvmBitmaps[i];
            vm.getDirtyLog(r.slot(), kb, dirtyLogArg);
            VmmDirtyBitmap vmm = r.dirty();
            long[] words = new long[vmm.words()];
            for (int w = 0; w < words.length; w++) {
                words[w] = kb.getAtIndex(JAVA_LONG, w) | vmm.takeWord(w);
            }
            out[i] = words;
        }
        return new DirtyPages(regions, out);
    }
}
