package io.jremus.cli.image;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Tiny little-endian ELF64 files for tests: a vmlinux-like one with a note, a module-like one with .modinfo. */
final class FakeElf {
    private FakeElf() {
    }

    /** An ET_EXEC with one PT_NOTE segment holding a single note, then {@code padding} zero bytes. */
    static byte[] withNote(String owner, int type, byte[] desc, int padding) {
        byte[] note = note(owner, type, desc);
        int phoff = 64;
        int noteAt = phoff + 56;
        ByteBuffer b = ByteBuffer.allocate(noteAt + note.length + padding).order(ByteOrder.LITTLE_ENDIAN);
        header(b, 2, phoff, 1, 0, 0, 0);
        b.position(phoff);
        b.putInt(4).putInt(4).putLong(noteAt).putLong(0).putLong(0).putLong(note.length).putLong(note.length).putLong(4);
        b.put(noteAt, note);
        return b.array();
    }

    /** An ET_REL with sections "", .shstrtab and .modinfo (NUL-separated key=value strings). */
    static byte[] module(String... modinfo) {
        byte[] shstrtab = "\0.shstrtab\0.modinfo\0".getBytes(StandardCharsets.US_ASCII);
        byte[] info = (String.join("\0", modinfo) + "\0").getBytes(StandardCharsets.UTF_8);
        int strAt = 64;
        int infoAt = strAt + shstrtab.length;
        int shoff = (infoAt + info.length + 7) & ~7;
        ByteBuffer b = ByteBuffer.allocate(shoff + 3 * 64).order(ByteOrder.LITTLE_ENDIAN);
        header(b, 1, 0, 0, shoff, 3, 1);
        b.put(strAt, shstrtab).put(infoAt, info);
        section(b, shoff + 64, 1, 3, strAt, shstrtab.length);
        section(b, shoff + 128, 11, 1, infoAt, info.length);
        return b.array();
    }

    private static void header(ByteBuffer b, int type, int phoff, int phnum, int shoff, int shnum, int shstrndx) {
        b.put(new byte[] {0x7F, 'E', 'L', 'F', 2, 1, 1});
        b.putShort(16, (short) type).putShort(18, (short) 0x3E).putInt(20, 1);
        b.putLong(0x20, phoff).putLong(0x28, shoff);
        b.putShort(0x34, (short) 64).putShort(0x36, (short) 56).putShort(0x38, (short) phnum);
        b.putShort(0x3A, (short) 64).putShort(0x3C, (short) shnum).putShort(0x3E, (short) shstrndx);
    }

    private static void section(ByteBuffer b, int at, int name, int type, int offset, int size) {
        b.putInt(at, name).putInt(at + 4, type).putLong(at + 0x18, offset).putLong(at + 0x20, size);
    }

    private static byte[] note(String owner, int type, byte[] desc) {
        byte[] name = (owner + "\0").getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer h = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(name.length).putInt(desc.length).putInt(type);
        out.writeBytes(h.array());
        out.writeBytes(name);
        out.writeBytes(new byte[(4 - name.length % 4) % 4]);
        out.writeBytes(desc);
        out.writeBytes(new byte[(4 - desc.length % 4) % 4]);
        return out.toByteArray();
    }

    /** A PVH-entry note descriptor for {@code entry}. */
    static byte[] pvhDesc(int entry) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(entry).array();
    }
}
