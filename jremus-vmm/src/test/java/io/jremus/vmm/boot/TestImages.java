package io.jremus.vmm.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Builds small ELF and bzImage files in memory, valid or deliberately broken. */
final class TestImages {
    private TestImages() {
    }

    /** A program header to put in a synthetic ELF. */
    record Phdr(int type, long offset, long paddr, long filesz, long memsz, long align) {
    }

    /** A Xen PHYS32_ENTRY note with a 4- or 8-byte value. */
    static byte[] pvhNote(long entry, int descSize) {
        ByteBuffer b = le(12 + 4 + descSize);
        b.putInt(4).putInt(descSize).putInt(ElfKernel.XEN_ELFNOTE_PHYS32_ENTRY);
        b.put("Xen\0".getBytes(StandardCharsets.US_ASCII));
        if (descSize == 4) b.putInt((int) entry); else b.putLong(entry);
        return b.array();
    }

    /** An unrelated note (GNU build id style) to make the walker skip something first. */
    static byte[] otherNote() {
        ByteBuffer b = le(12 + 4 + 8);
        b.putInt(4).putInt(8).putInt(3).put("GNU\0".getBytes(StandardCharsets.US_ASCII)).putLong(0x1122334455667788L);
        return b.array();
    }

    /**
     * A typical small kernel: one PT_LOAD of {@code code} at {@code paddr} with {@code bss} extra
     * zero bytes, and a PT_NOTE holding {@code notes}.
     */
    static byte[] elf(long paddr, byte[] code, long bss, byte[] notes) {
        int codeOff = 0x1000;
        int noteOff = codeOff + code.length;
        List<Phdr> ph = new ArrayList<>();
        ph.add(new Phdr(ElfKernel.PT_LOAD, codeOff, paddr, code.length, code.length + bss, 0x1000));
        if (notes != null) ph.add(new Phdr(ElfKernel.PT_NOTE, noteOff, 0, notes.length, notes.length, 4));
        byte[] out = elfWithHeaders(ph, noteOff + (notes == null ? 0 : notes.length));
        System.arraycopy(code, 0, out, codeOff, code.length);
        if (notes != null) System.arraycopy(notes, 0, out, noteOff, notes.length);
        return out;
    }

    /** An ELF header plus the given program headers, in a file of {@code fileSize} bytes. */
    static byte[] elfWithHeaders(List<Phdr> phdrs, int fileSize) {
        ByteBuffer b = le(Math.max(fileSize, 64 + 56 * phdrs.size()));
        b.put(new byte[] {0x7F, 'E', 'L', 'F', 2, 1, 1, 0});
        b.position(16);
        b.putShort((short) 2).putShort((short) ElfKernel.EM_X86_64).putInt(1);
        b.putLong(0xFFFF_FFFF_8100_0000L); // e_entry: the virtual one, which PVH ignores
        b.putLong(64).putLong(0).putInt(0);
        b.putShort((short) 64).putShort((short) 56).putShort((short) phdrs.size());
        b.putShort((short) 64).putShort((short) 0).putShort((short) 0);
        for (Phdr p : phdrs) {
            b.putInt(p.type()).putInt(7).putLong(p.offset()).putLong(p.paddr() + 0xFFFF_FFFF_8000_0000L)
                    .putLong(p.paddr()).putLong(p.filesz()).putLong(p.memsz()).putLong(p.align());
        }
        return b.array();
    }

    /** Options for a synthetic bzImage; defaults describe a Debian-like relocatable 64-bit kernel. */
    static final class BzImageSpec {
        int setupSects = 27;
        int bootFlag = 0xAA55;
        int magic = 0x53726448;
        int version = 0x020F;
        int loadflags = 0x01;
        int xloadflags = 0x1;
        boolean relocatable = true;
        long kernelAlignment = 0x200000;
        long prefAddress = 0x1000000;
        long initSize = 0x800000;
        long cmdlineSize = 2047;
        long initrdAddrMax = 0x7FFF_FFFF;
        int pmSize = 0x3000;
        int headerEndJump = 0x6A; // 0x202 + 0x6A = 0x26C, the 2.15 header end
    }

    /** The protected-mode part's first bytes are a recognisable pattern at every offset. */
    static byte pmByte(int i) {
        return (byte) (i * 7 + 3);
    }

    static byte[] bzImage(BzImageSpec s) {
        int sects = s.setupSects == 0 ? 4 : s.setupSects;
        int pmOff = (sects + 1) * 512;
        ByteBuffer b = le(pmOff + s.pmSize);
        b.put(0x1F1, (byte) s.setupSects);
        b.putShort(0x1FE, (short) s.bootFlag);
        b.put(0x200, (byte) 0xEB).put(0x201, (byte) s.headerEndJump);
        b.putInt(0x202, s.magic);
        b.putShort(0x206, (short) s.version);
        b.put(0x211, (byte) s.loadflags);
        b.putInt(0x214, 0x100000);
        b.putInt(0x22C, (int) s.initrdAddrMax);
        b.putInt(0x230, (int) s.kernelAlignment);
        b.put(0x234, (byte) (s.relocatable ? 1 : 0));
        b.putShort(0x236, (short) s.xloadflags);
        b.putInt(0x238, (int) s.cmdlineSize);
        b.putLong(0x258, s.prefAddress);
        b.putInt(0x260, (int) s.initSize);
        b.putShort(0x1FA, (short) 0xFFFF); // vid_mode, to check the header copy
        for (int i = 0; i < s.pmSize; i++) b.put(pmOff + i, pmByte(i));
        return b.array();
    }

    static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }
}
