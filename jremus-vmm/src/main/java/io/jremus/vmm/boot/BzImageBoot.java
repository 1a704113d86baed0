package io.jremus.vmm.boot;

import io.jremus.vmm.memory.GuestMemory;

import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * Boots a bzImage through the Linux 64-bit boot protocol: loads the protected-mode code, writes
 * the command line, the initrd and the zero page, and returns the long-mode entry state
 * (RIP = load address + 0x200, RSI = zero page). Assumes guest RAM laid out by
 * {@link GuestRamLayout}.
 */
public final class BzImageBoot {
    private BzImageBoot() {
    }

    /**
     * @param rsdpAddress the ACPI RSDP, or 0 for none
     * @throws BootException if the image is not a 64-bit bzImage, the command line is longer than
     *                       its cmdline_size, or the kernel or initrd do not fit
     */
    public static BootPlan boot(GuestMemory memory, MemorySegment bzImage, Optional<MemorySegment> initrd,
                                String cmdline, long rsdpAddress) {
        BzImage kernel = BzImage.parse(bzImage);
        kernel.loadInto(memory);
        long cmdlineAddress = BootCmdline.write(memory, cmdline, kernel.header().cmdlineSize());
        long initrdStart = 0;
        long initrdSize = 0;
        if (initrd.isPresent()) {
            initrdSize = initrd.get().byteSize();
            long maxEnd = kernel.header().initrdAddrMax() + 1;
            initrdStart = InitrdPlacement.place(memory, initrd.get(), kernel.kernelEnd(), maxEnd);
        }
        long zeroPage = ZeroPage.write(memory, kernel, cmdlineAddress, initrdStart, initrdSize,
                MemoryMap.forRegions(PvhBoot.ramRegions(memory)), rsdpAddress);
        long entry = kernel.loadAddress() + BzImage.ENTRY_64_OFFSET;
        LoadedImage loaded = new LoadedImage("bzimage", entry, kernel.loadAddress(), kernel.kernelEnd(),
                initrdStart, initrdSize, cmdlineAddress, zeroPage);
        return BootCpu.longMode64(memory, entry, zeroPage, loaded);
    }
}
