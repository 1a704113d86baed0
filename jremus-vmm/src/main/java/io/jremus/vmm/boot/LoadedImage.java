package io.jremus.vmm.boot;

/**
 * What the loader put where, for logging and for tests. Addresses are guest-physical; an absent
 * initrd has start and size 0.
 *
 * @param format         "pvh-elf" or "bzimage"
 * @param entry          where the vCPU starts
 * @param kernelStart    first byte of the loaded kernel
 * @param kernelEnd      one past its last byte (including bss, or init_size for a bzImage)
 * @param initrdStart    first byte of the initrd
 * @param initrdSize     its length
 * @param cmdlineAddress the NUL-terminated command line
 * @param bootInfo       the hvm_start_info (PVH) or zero page (bzImage)
 */
public record LoadedImage(String format, long entry, long kernelStart, long kernelEnd,
                          long initrdStart, long initrdSize, long cmdlineAddress, long bootInfo) {
    @Override
    public String toString() {
        return String.format("%s: entry 0x%x, kernel [0x%x, 0x%x), initrd [0x%x, +0x%x), cmdline at 0x%x, boot info at 0x%x",
                format, entry, kernelStart, kernelEnd, initrdStart, initrdSize, cmdlineAddress, bootInfo);
    }
}
