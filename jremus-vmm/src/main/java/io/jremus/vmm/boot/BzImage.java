package io.jremus.vmm.boot;

import io.jremus.vmm.MachineLayout;
import io.jremus.vmm.memory.GuestMemory;

import java.lang.foreign.MemorySegment;

/**
 * A Linux bzImage, parsed and validated, ready to load for the 64-bit boot protocol. The file is
 * untrusted: the header is checked (boot flag, "HdrS", protocol 2.12 or later, LOADED_HIGH,
 * XLF_KERNEL_64) before anything is written to the guest.
 *
 * <p>Where the protected-mode part goes: a relocatable kernel at its {@code pref_address}
 * (16 MiB for Debian's), a non-relocatable one at 1 MiB as the protocol requires. At
 * pref_address the decompressor can work in place, inside the {@code init_size} area the kernel
 * needs anyway, instead of first copying itself out of the way; and it is the address the
 * kernel was linked for. (Loading every kernel at 1 MiB, as some VMMs do, also works for
 * relocatable kernels, but only because they move themselves.) The real-mode setup code is not
 * loaded: the 64-bit entry bypasses it, and the VMM fills the zero page in its stead.
 */
public final class BzImage {
    /** The 64-bit entry is this far into the protected-mode code (boot protocol, "64-bit BOOT PROTOCOL"). */
    public static final long ENTRY_64_OFFSET = 0x200;

    private final ImageReader file;
    private final SetupHeader header;

    private BzImage(ImageReader file, SetupHeader header) {
        this.file = file;
        this.header = header;
    }

    /** Whether the image carries a setup header's "HdrS" magic (tells a bzImage from an ELF). */
    public static boolean looksLikeBzImage(MemorySegment image) {
        return image.byteSize() >= SetupHeader.OFF_HEADER + 4
                && new ImageReader(image, "bzImage").u32(SetupHeader.OFF_HEADER, "header") == SetupHeader.HEADER_MAGIC;
    }

    /** @throws BootException if the image is not a bootable 64-bit bzImage */
    public static BzImage parse(MemorySegment image) {
        ImageReader r = new ImageReader(image, "bzImage");
        SetupHeader h = SetupHeader.read(r);
        if (h.protectedModeOffset() >= r.size()) {
            throw r.fail("setup_sects " + h.setupSects() + " puts the kernel at 0x" + Long.toHexString(h.protectedModeOffset())
                    + ", past the end of the file (0x" + Long.toHexString(r.size()) + " bytes)");
        }
        if (h.relocatable() && h.prefAddress() >= MachineLayout.HIMEM_START && (h.prefAddress() & (h.kernelAlignment() - 1)) != 0) {
            throw r.fail("pref_address 0x" + Long.toHexString(h.prefAddress()) + " is not aligned to kernel_alignment 0x"
                    + Long.toHexString(h.kernelAlignment()));
        }
        return new BzImage(r, h);
    }

    public SetupHeader header() {
        return header;
    }

    /** Size of the protected-mode part (everything after the setup sectors). */
    public long protectedModeSize() {
        return file.size() - header.protectedModeOffset();
    }

    /** Where {@link #loadInto} puts the protected-mode code; see the class comment for why. */
    public long loadAddress() {
        if (!header.relocatable()) return MachineLayout.HIMEM_START;
        if (header.prefAddress() >= MachineLayout.HIMEM_START) return header.prefAddress();
        long a = header.kernelAlignment();
        return (MachineLayout.HIMEM_START + a - 1) & -a;
    }

    /** One past the memory the kernel needs from its load address: the larger of file size and init_size. */
    public long kernelEnd() {
        return loadAddress() + Math.max(protectedModeSize(), header.initSize());
    }

    /** The raw setup header bytes [0x1f1, headerEnd), to copy into the zero page. */
    MemorySegment headerBytes() {
        return file.image().asSlice(SetupHeader.OFF_SETUP_SECTS, header.headerEnd() - SetupHeader.OFF_SETUP_SECTS);
    }

    /**
     * Copies the protected-mode code to {@link #loadAddress()}.
     *
     * @throws BootException if the kernel and its init_size area do not fit in low RAM
     */
    public void loadInto(GuestMemory memory) {
        long load = loadAddress();
        long end = kernelEnd();
        if (end > MachineLayout.LOW_RAM_END || !memory.contains(load, end - load)) {
            throw new BootException("bzImage: kernel at [0x" + Long.toHexString(load) + ", 0x" + Long.toHexString(end)
                    + ") (file size or init_size) does not fit in guest RAM (" + memory.size() + " bytes)");
        }
        long size = protectedModeSize();
        MemorySegment.copy(file.image(), header.protectedModeOffset(), memory.sliceForWrite(load, size), 0, size);
    }
}
