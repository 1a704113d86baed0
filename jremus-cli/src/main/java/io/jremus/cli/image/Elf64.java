package io.jremus.cli.image;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Just enough of a little-endian ELF64 reader for the image builder: named sections (a kernel
 * module's {@code .modinfo}) and notes (vmlinux's PVH entry note). The file is untrusted input
 * (it comes out of a download and a decompressor), so every offset is bounds-checked and a
 * malformed file is an {@link IllegalArgumentException}, never an out-of-bounds read.
 */
final class Elf64 {
    /** Xen's note type for the 32-bit PVH entry point, with owner name "Xen". */
    static final int XEN_ELFNOTE_PHYS32_ENTRY = 18;

    private static final int PT_NOTE = 4;
    private static final int SHT_NOTE = 7;

    record Note(String owner, int type, ByteBuffer desc) {
    }

    private final ByteBuffer elf;

    private Elf64(ByteBuffer elf) {
        this.elf = elf.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    static boolean hasElfMagic(ByteBuffer b) {
        return b.remaining() >= 4 && b.get(b.position()) == 0x7F && b.get(b.position() + 1) == 'E'
                && b.get(b.position() + 2) == 'L' && b.get(b.position() + 3) == 'F';
    }

    static Elf64 parse(ByteBuffer buffer) {
        ByteBuffer b = buffer.slice();
        if (b.limit() < 64 || !hasElfMagic(b)) {
            throw new IllegalArgumentException("not an ELF file");
        }
        if (b.get(4) != 2 || b.get(5) != 1) {
            throw new IllegalArgumentException("not a little-endian 64-bit ELF file");
        }
        return new Elf64(b);
    }

    /** The contents of the first section called {@code name}, if there is one. */
    Optional<ByteBuffer> section(String name) {
        int shoff = checkedInt(elf.getLong(0x28));
        int shentsize = Short.toUnsignedInt(elf.getShort(0x3A));
        int shnum = Short.toUnsignedInt(elf.getShort(0x3C));
        int shstrndx = Short.toUnsignedInt(elf.getShort(0x3E));
        if (shoff == 0 || shnum == 0) {
            return Optional.empty();
        }
        if (shentsize < 64 || shstrndx >= shnum) {
            throw new IllegalArgumentException("bad ELF section header table");
        }
        ByteBuffer names = sectionData(shoff + shstrndx * shentsize);
        for (int i = 0; i < shnum; i++) {
            int sh = checkedRange(shoff + (long) i * shentsize, 64);
            if (name.equals(cString(names, elf.getInt(sh)))) {
                return Optional.of(sectionData(sh));
            }
        }
        return Optional.empty();
    }

    /** All notes, from PT_NOTE segments, or from SHT_NOTE sections if there are no segments (modules). */
    List<Note> notes() {
        List<Note> notes = new ArrayList<>();
        int phoff = checkedInt(elf.getLong(0x20));
        int phentsize = Short.toUnsignedInt(elf.getShort(0x36));
        int phnum = Short.toUnsignedInt(elf.getShort(0x38));
        for (int i = 0; i < phnum && phoff != 0; i++) {
            int ph = checkedRange(phoff + (long) i * phentsize, 56);
            if (elf.getInt(ph) == PT_NOTE) {
                readNotes(slice(elf.getLong(ph + 8), elf.getLong(ph + 0x20)), notes);
            }
        }
        if (phnum == 0) {
            int shoff = checkedInt(elf.getLong(0x28));
            int shentsize = Short.toUnsignedInt(elf.getShort(0x3A));
            int shnum = Short.toUnsignedInt(elf.getShort(0x3C));
            for (int i = 0; i < shnum && shoff != 0; i++) {
                int sh = checkedRange(shoff + (long) i * shentsize, 64);
                if (elf.getInt(sh + 4) == SHT_NOTE) {
                    readNotes(sectionData(sh), notes);
                }
            }
        }
        return notes;
    }

    /** The PVH entry address from the Xen PHYS32_ENTRY note, if the kernel has one. */
    Optional<Long> pvhEntry() {
        return notes().stream()
                .filter(n -> n.owner().equals("Xen") && n.type() == XEN_ELFNOTE_PHYS32_ENTRY && n.desc().remaining() >= 4)
                .map(n -> Integer.toUnsignedLong(n.desc().order(ByteOrder.LITTLE_ENDIAN).getInt(0)))
                .findFirst();
    }

    private static void readNotes(ByteBuffer seg, List<Note> into) {
        seg.order(ByteOrder.LITTLE_ENDIAN);
        int p = 0;
        while (p + 12 <= seg.limit()) {
            int namesz = seg.getInt(p);
            int descsz = seg.getInt(p + 4);
            int type = seg.getInt(p + 8);
            int nameAt = p + 12;
            int descAt = nameAt + align4(namesz);
            if (namesz < 0 || descsz < 0 || descAt < 0 || (long) descAt + descsz > seg.limit()) {
                throw new IllegalArgumentException("bad ELF note");
            }
            String owner = cString(seg.slice(nameAt, namesz), 0);
            into.add(new Note(owner, type, seg.slice(descAt, descsz)));
            p = descAt + align4(descsz);
        }
    }

    private ByteBuffer sectionData(int sh) {
        checkedRange(sh, 64);
        return slice(elf.getLong(sh + 0x18), elf.getLong(sh + 0x20));
    }

    private ByteBuffer slice(long offset, long size) {
        int at = checkedRange(offset, size);
        return elf.slice(at, (int) size).order(ByteOrder.LITTLE_ENDIAN);
    }

    private int checkedRange(long offset, long size) {
        if (offset < 0 || size < 0 || offset + size > elf.limit()) {
            throw new IllegalArgumentException("ELF offset " + offset + "+" + size + " is outside the file");
        }
        return (int) offset;
    }

    private int checkedInt(long v) {
        if (v < 0 || v > elf.limit()) {
            throw new IllegalArgumentException("ELF offset " + v + " is outside the file");
        }
        return (int) v;
    }

    private static String cString(ByteBuffer b, int at) {
        if (at < 0 || at > b.limit()) {
            throw new IllegalArgumentException("ELF string offset out of range");
        }
        int end = at;
        while (end < b.limit() && b.get(end) != 0) {
            end++;
        }
        byte[] s = new byte[end - at];
        b.get(at, s);
        return new String(s, StandardCharsets.UTF_8);
    }

    private static int align4(int n) {
        return (n + 3) & ~3;
    }
}
