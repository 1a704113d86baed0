package io.jremus.vmm.boot;

import io.jremus.vmm.MachineLayout;
import io.jremus.vmm.memory.GuestMemory;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A 64-bit x86 ELF kernel that advertises a PVH entry point: jremus's test guest (linked at
 * 1 MiB) or an uncompressed Linux {@code vmlinux} built with {@code CONFIG_PVH} (Debian's loads
 * at 16 MiB and enters at 0x1000850).
 *
 * <p>The file is untrusted. {@link #parse} checks every header, offset and size against the file
 * before anything is written to the guest, and fails with a {@link BootException} that names the
 * problem. Segments are loaded at their physical address ({@code p_paddr}), not the virtual one,
 * because a PVH guest starts with paging off. Loading below 1 MiB is refused: that area holds
 * the VMM's boot structures and ACPI tables.
 */
public final class ElfKernel {
    /** Xen's note: name "Xen", type 18, 32-bit physical entry point (xen/include/public/elfnote.h). */
    static final int XEN_ELFNOTE_PHYS32_ENTRY = 18;
    static final int PT_LOAD = 1;
    static final int PT_NOTE = 4;
    static final int EM_X86_64 = 62;
    static final int ELF64_EHDR_SIZE = 64;
    static final int ELF64_PHDR_SIZE = 56;
    /** Real kernels have fewer than 10; anything past this is a corrupt or hostile file. */
    static final int MAX_PROGRAM_HEADERS = 128;

    /** One PT_LOAD segment, already checked to lie inside the file. */
    public record LoadSegment(long fileOffset, long physAddress, long fileSize, long memSize) {
        public long physEnd() {
            return physAddress + memSize;
        }
    }

    private final ImageReader file;
    private final List<LoadSegment> segments;
    private final long pvhEntry;

    private ElfKernel(ImageReader file, List<LoadSegment> segments, long pvhEntry) {
        this.file = file;
        this.segments = segments;
        this.pvhEntry = pvhEntry;
    }

    /** Whether the image starts with the ELF magic (used to tell an ELF from a bzImage). */
    public static boolean looksLikeElf(MemorySegment image) {
        return image.byteSize() >= 4 && image.get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, 0) == 0x464C457F;
    }

    /**
     * Parses and validates an ELF64 kernel image. The segment must stay alive until
     * {@link #loadInto} has run.
     *
     * @throws BootException if the file is not a loadable x86-64 ELF or has no PVH entry note
     */
    public static ElfKernel parse(MemorySegment image) {
        ImageReader r = new ImageReader(image, "ELF kernel");
        r.require(0, ELF64_EHDR_SIZE, "ELF header");
        if (!looksLikeElf(image)) {
            throw r.fail("no ELF magic at offset 0");
        }
        if (r.u8(4, "EI_CLASS") != 2) throw r.fail("not a 64-bit ELF (EI_CLASS " + r.u8(4, "EI_CLASS") + ")");
        if (r.u8(5, "EI_DATA") != 1) throw r.fail("not little-endian (EI_DATA " + r.u8(5, "EI_DATA") + ")");
        int machine = r.u16(18, "e_machine");
        if (machine != EM_X86_64) throw r.fail("e_machine is " + machine + ", not x86-64 (" + EM_X86_64 + ")");
        long phoff = r.u64(32, "e_phoff");
        int phentsize = r.u16(54, "e_phentsize");
        int phnum = r.u16(56, "e_phnum");
        if (phentsize != ELF64_PHDR_SIZE) {
            throw r.fail("e_phentsize is " + phentsize + ", expected " + ELF64_PHDR_SIZE);
        }
        if (phnum == 0 || phnum > MAX_PROGRAM_HEADERS) {
            throw r.fail("e_phnum is " + phnum + ", expected 1.." + MAX_PROGRAM_HEADERS);
        }
        r.require(phoff, (long) phnum * ELF64_PHDR_SIZE, "program header table");

        List<LoadSegment> loads = new ArrayList<>();
        Long entry = null;
        for (int i = 0; i < phnum; i++) {
            long ph = phoff + (long) i * ELF64_PHDR_SIZE;
            String what = "program header " + i;
            long type = r.u32(ph, what);
            long offset = r.u64(ph + 8, what);
            long paddr = r.u64(ph + 24, what);
            long filesz = r.u64(ph + 32, what);
            long memsz = r.u64(ph + 40, what);
            long align = r.u64(ph + 48, what);
            if (type == PT_LOAD) {
                LoadSegment s = checkLoad(r, i, offset, paddr, filesz, memsz);
                if (s != null) loads.add(s);
            } else if (type == PT_NOTE && entry == null) {
                r.require(offset, filesz, "PT_NOTE segment " + i);
                entry = findPvhEntry(r, offset, filesz, align == 8 ? 8 : 4);
            }
        }
        if (loads.isEmpty()) {
            throw r.fail("no PT_LOAD segment with contents");
        }
        if (entry == null) {
            throw r.fail("kernel has no PVH entry note; use a bzImage or a kernel built with CONFIG_PVH");
        }
        long e = entry;
        if (loads.stream().noneMatch(s -> e >= s.physAddress() && e < s.physEnd())) {
            throw r.fail("PVH entry 0x" + Long.toHexString(e) + " is not inside any PT_LOAD segment");
        }
        return new ElfKernel(r, List.copyOf(loads), e);
    }

    private static LoadSegment checkLoad(ImageReader r, int i, long offset, long paddr, long filesz, long memsz) {
        String what = "PT_LOAD segment " + i;
        if (memsz == 0) return null;
        if (filesz < 0 || memsz < 0 || filesz > memsz) {
            throw r.fail(what + " has p_filesz 0x" + Long.toHexString(filesz) + " > p_memsz 0x" + Long.toHexString(memsz));
        }
        r.require(offset, filesz, what);
        // Past 4 GiB a 32-bit entry could not reach the code; also rules out address overflow.
        if (paddr < MachineLayout.HIMEM_START || paddr >= (1L << 32) || memsz > (1L << 32) - paddr) {
            throw r.fail(what + " at physical [0x" + Long.toHexString(paddr) + ", +0x" + Long.toHexString(memsz)
                    + ") is outside [1 MiB, 4 GiB): it would overwrite the boot structures or be unreachable");
        }
        return new LoadSegment(offset, paddr, filesz, memsz);
    }

    /** Walks the notes in [start, start+size); returns the PHYS32_ENTRY address or null. */
    private static Long findPvhEntry(ImageReader r, long start, long size, int align) {
        long p = start;
        long end = start + size;
        while (end - p >= 12) {
            long namesz = r.u32(p, "note header");
            long descsz = r.u32(p + 4, "note header");
            long type = r.u32(p + 8, "note header");
            long name = p + 12;
            long desc = name + alignUp(namesz, align);
            long next = desc + alignUp(descsz, align);
            if (next > end) {
                throw r.fail("note at file offset 0x" + Long.toHexString(p) + " (namesz " + namesz + ", descsz " + descsz
                        + ") runs past the end of its PT_NOTE segment");
            }
            if (type == XEN_ELFNOTE_PHYS32_ENTRY && isXen(r, name, namesz)) {
                if (descsz == 4) return r.u32(desc, "PVH entry note");
                if (descsz == 8) {
                    long v = r.u64(desc, "PVH entry note");
                    if (v < 0 || v >= (1L << 32)) {
                        throw r.fail("PVH entry 0x" + Long.toHexString(v) + " does not fit in 32 bits");
                    }
                    return v;
                }
                throw r.fail("PVH entry note has a " + descsz + "-byte value, expected 4 or 8");
            }
            p = next;
        }
        return null;
    }

    private static boolean isXen(ImageReader r, long name, long namesz) {
        if (namesz != 3 && namesz != 4) return false;
        byte[] n = r.image().asSlice(name, namesz).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        return Arrays.equals(Arrays.copyOf(n, 3), "Xen".getBytes(StandardCharsets.US_ASCII)) && (namesz == 3 || n[3] == 0);
    }

    private static long alignUp(long v, int align) {
        return (v + align - 1) & -align;
    }

    /** The 32-bit physical address the PVH ABI enters at. */
    public long pvhEntry() {
        return pvhEntry;
    }

    public List<LoadSegment> segments() {
        return segments;
    }

    /** Lowest physical address any segment occupies. */
    public long physStart() {
        return segments.stream().mapToLong(LoadSegment::physAddress).min().orElseThrow();
    }

    /** One past the highest physical address any segment (with its bss) occupies. */
    public long physEnd() {
        return segments.stream().mapToLong(LoadSegment::physEnd).max().orElseThrow();
    }

    /**
     * Copies every PT_LOAD segment to its physical address and zeroes its bss tail. Checks all
     * segments against guest RAM first, so a kernel that does not fit leaves memory untouched.
     *
     * @throws BootException if a segment lies outside guest RAM
     */
    public void loadInto(GuestMemory memory) {
        for (LoadSegment s : segments) {
            if (!memory.contains(s.physAddress(), s.memSize())) {
                throw new BootException("ELF kernel: segment at [0x" + Long.toHexString(s.physAddress()) + ", 0x"
                        + Long.toHexString(s.physEnd()) + ") lies outside guest RAM (" + memory.size() + " bytes)");
            }
        }
        for (LoadSegment s : segments) {
            MemorySegment dst = memory.sliceForWrite(s.physAddress(), s.memSize());
            MemorySegment.copy(file.image(), s.fileOffset(), dst, 0, s.fileSize());
            dst.asSlice(s.fileSize()).fill((byte) 0);
        }
    }
}
