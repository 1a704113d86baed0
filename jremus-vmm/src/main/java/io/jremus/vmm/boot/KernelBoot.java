package io.jremus.vmm.boot;

import io.jremus.vmm.memory.GuestMemory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * The one call the VM core makes to boot a kernel file: tells a PVH-capable ELF from a bzImage
 * by its magic and hands it to {@link PvhBoot} or {@link BzImageBoot}. Files are mapped read-only
 * for the duration of the call, so a 65 MB vmlinux is not copied onto the Java heap.
 */
public final class KernelBoot {
    private KernelBoot() {
    }

    /**
     * Loads {@code kernel} (and {@code initrd}) into guest memory and returns the boot vCPU state.
     * Write the ACPI tables before or after; this only records {@code rsdpAddress}.
     *
     * @param initrd      an initramfs file, or null
     * @param rsdpAddress the ACPI RSDP address, or 0 for none
     * @throws IOException   if a file cannot be read
     * @throws BootException if the kernel is neither format, is malformed, or does not fit
     */
    public static BootPlan boot(GuestMemory memory, Path kernel, Path initrd, String cmdline, long rsdpAddress)
            throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment image = map(kernel, arena);
            Optional<MemorySegment> rd = initrd == null ? Optional.empty() : Optional.of(map(initrd, arena));
            if (ElfKernel.looksLikeElf(image)) {
                return PvhBoot.boot(memory, image, rd, cmdline, rsdpAddress);
            }
            if (BzImage.looksLikeBzImage(image)) {
                return BzImageBoot.boot(memory, image, rd, cmdline, rsdpAddress);
            }
            throw new BootException(kernel + ": neither an ELF kernel nor a bzImage");
        }
    }

    private static MemorySegment map(Path file, Arena arena) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size == 0) throw new BootException(file + " is empty");
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        }
    }
}
