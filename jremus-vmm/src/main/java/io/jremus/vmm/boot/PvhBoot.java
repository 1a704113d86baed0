package io.jremus.vmm.boot;

import io.jremus.vmm.memory.GuestMemory;
import io.jremus.vmm.memory.MemoryRegion;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Optional;

/**
 * Boots an ELF kernel through its PVH entry: loads the segments, writes the command line, the
 * initrd, {@code hvm_start_info} with the memory map, and returns the 32-bit entry state.
 * Assumes guest RAM laid out by {@link GuestRamLayout} (RAM from 0 past 1 MiB) and that the
 * ACPI tables, if any, have been or will be written at {@code rsdpAddress}.
 */
public final class PvhBoot {
    private PvhBoot() {
    }

    /**
     * @param kernel      an ELF image (for example a mapped file; see {@link KernelBoot})
     * @param initrd      the initrd contents, if any
     * @param cmdline     the kernel command line, at most {@code MachineLayout.CMDLINE_MAX - 1} bytes
     * @param rsdpAddress the ACPI RSDP, or 0 for none
     * @throws BootException if the kernel is malformed, has no PVH note, or anything does not fit
     */
    public static BootPlan boot(GuestMemory memory, MemorySegment kernel, Optional<MemorySegment> initrd,
                                String cmdline, long rsdpAddress) {
        ElfKernel elf = ElfKernel.parse(kernel);
        elf.loadInto(memory);
        long cmdlineAddress = BootCmdline.write(memory, cmdline, Long.MAX_VALUE);
        long initrdStart = 0;
        long initrdSize = 0;
        if (initrd.isPresent()) {
            initrdSize = initrd.get().byteSize();
            initrdStart = InitrdPlacement.place(memory, initrd.get(), elf.physEnd(), Long.MAX_VALUE);
        }
        List<E820Entry> memmap = MemoryMap.forRegions(ramRegions(memory));
        long startInfo = PvhStartInfo.write(memory, cmdlineAddress, rsdpAddress, memmap, initrdStart, initrdSize);
        LoadedImage loaded = new LoadedImage("pvh-elf", elf.pvhEntry(), elf.physStart(), elf.physEnd(),
                initrdStart, initrdSize, cmdlineAddress, startInfo);
        return BootCpu.protectedMode32(memory, elf.pvhEntry(), startInfo, loaded);
    }

    /** The guest's RAM as {@link RamRegion}s, for the memory map. */
    static List<RamRegion> ramRegions(GuestMemory memory) {
        return memory.regions().stream().map((MemoryRegion r) -> new RamRegion(r.guestAddress(), r.size())).toList();
    }
}
