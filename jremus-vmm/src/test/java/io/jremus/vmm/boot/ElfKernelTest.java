package io.jremus.vmm.boot;

import io.jremus.vmm.boot.TestImages.Phdr;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static io.jremus.vmm.boot.GuestMemoryFixture.segment;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ElfKernelTest {
    private static final long MIB = 1 << 20;
    private final GuestMemoryFixture ram = new GuestMemoryFixture(32 * MIB);

    @AfterEach
    void free() {
        ram.close();
    }

    private static byte[] code(int n) {
        byte[] c = new byte[n];
        for (int i = 0; i < n; i++) c[i] = (byte) (i + 1);
        return c;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void shouldLoadSegmentAtItsPhysicalAddressAndZeroTheBss() {
        ram.memory.sliceForWrite(0x100000 + 0x100, 0x200).fill((byte) 0xCC); // stale bytes where bss goes
        ElfKernel k = ElfKernel.parse(segment(TestImages.elf(0x100000, code(0x100), 0x200, TestImages.pvhNote(0x100010, 4))));

        k.loadInto(ram.memory);

        assertThat(ram.memory.read(0x100000, 0x100)).isEqualTo(code(0x100));
        assertThat(ram.memory.read(0x100100, 0x200)).containsOnly(0);
        assertThat(k.physStart()).isEqualTo(0x100000);
        assertThat(k.physEnd()).isEqualTo(0x100300);
    }

    @Test
    void shouldReturnThePvhEntryFromAFourByteXenNote() {
        byte[] notes = concat(TestImages.otherNote(), TestImages.pvhNote(0x100040, 4));
        assertThat(ElfKernel.parse(segment(TestImages.elf(0x100000, code(0x100), 0, notes))).pvhEntry()).isEqualTo(0x100040);
    }

    @Test
    void shouldAcceptAnEightBytePvhEntry() {
        byte[] notes = TestImages.pvhNote(0x1000850, 8);
        assertThat(ElfKernel.parse(segment(TestImages.elf(0x1000000, code(0x1000), 0, notes))).pvhEntry()).isEqualTo(0x1000850);
    }

    @Test
    void shouldRejectAKernelWithoutPvhNote() {
        byte[] image = TestImages.elf(0x100000, code(0x100), 0, TestImages.otherNote());
        assertThatThrownBy(() -> ElfKernel.parse(segment(image)))
                .isInstanceOf(BootException.class)
                .hasMessageContaining("kernel has no PVH entry note; use a bzImage or a kernel built with CONFIG_PVH");
    }

    @Test
    void shouldRejectAPvhEntryOutsideTheLoadedSegments() {
        byte[] image = TestImages.elf(0x100000, code(0x100), 0, TestImages.pvhNote(0x900000, 4));
        assertThatThrownBy(() -> ElfKernel.parse(segment(image))).hasMessageContaining("not inside any PT_LOAD");
    }

    @Test
    void shouldRejectATruncatedElfHeader() {
        byte[] image = Arrays.copyOf(TestImages.elf(0x100000, code(16), 0, TestImages.pvhNote(0x100000, 4)), 40);
        assertThatThrownBy(() -> ElfKernel.parse(segment(image)))
                .isInstanceOf(BootException.class).hasMessageContaining("ELF header").hasMessageContaining("outside the file");
    }

    @Test
    void shouldRejectProgramHeadersThatRunPastTheEndOfTheFile() {
        byte[] image = TestImages.elfWithHeaders(List.of(new Phdr(1, 0, 0x100000, 0, 0x10, 0)), 64 + 56);
        byte[] cut = Arrays.copyOf(image, 64 + 30);
        assertThatThrownBy(() -> ElfKernel.parse(segment(cut))).hasMessageContaining("program header table");
    }

    @Test
    void shouldRejectAnAbsurdProgramHeaderCount() {
        byte[] image = TestImages.elf(0x100000, code(16), 0, TestImages.pvhNote(0x100000, 4));
        image[56] = (byte) 0xFF;
        image[57] = (byte) 0xFF;
        assertThatThrownBy(() -> ElfKernel.parse(segment(image))).hasMessageContaining("e_phnum is 65535");
    }

    @Test
    void shouldRejectASegmentWhoseContentsLieBeyondTheFile() {
        byte[] image = TestImages.elfWithHeaders(List.of(new Phdr(1, 0x7FFF_FFFF_FFFF_0000L, 0x100000, 0x20000, 0x20000, 0)), 256);
        assertThatThrownBy(() -> ElfKernel.parse(segment(image))).hasMessageContaining("PT_LOAD segment 0").hasMessageContaining("outside the file");
    }

    @Test
    void shouldRejectFileSizeLargerThanMemorySize() {
        byte[] image = TestImages.elfWithHeaders(List.of(new Phdr(1, 64, 0x100000, 0x40, 0x20, 0)), 256);
        assertThatThrownBy(() -> ElfKernel.parse(segment(image))).hasMessageContaining("p_filesz 0x40 > p_memsz 0x20");
    }

    @Test
    void shouldRejectASegmentBelowOneMiBOrWrappingPastFourGiB() {
        byte[] low = TestImages.elf(0x8000, code(16), 0, TestImages.pvhNote(0x8000, 4));
        assertThatThrownBy(() -> ElfKernel.parse(segment(low))).hasMessageContaining("outside [1 MiB, 4 GiB)");
        byte[] wrap = TestImages.elfWithHeaders(List.of(new Phdr(1, 0, 0xFFFF_F000L, 0, 0x2000, 0)), 256);
        assertThatThrownBy(() -> ElfKernel.parse(segment(wrap))).hasMessageContaining("outside [1 MiB, 4 GiB)");
    }

    @Test
    void shouldRejectASegmentOutsideGuestMemoryWithoutWritingAnything() {
        byte[] image = TestImages.elf(0x1F00000, code(0x100), 0x200000, TestImages.pvhNote(0x1F00000, 4));
        ElfKernel k = ElfKernel.parse(segment(image));
        assertThatThrownBy(() -> k.loadInto(ram.memory))
                .isInstanceOf(BootException.class).hasMessageContaining("outside guest RAM");
        assertThat(ram.memory.read(0x1F00000, 0x100)).containsOnly(0);
    }

    @Test
    void shouldRejectANoteThatRunsPastItsSegment() {
        byte[] note = TestImages.pvhNote(0x100000, 4);
        note[4] = 0x40; // descsz 64 in a 20-byte note
        assertThatThrownBy(() -> ElfKernel.parse(segment(TestImages.elf(0x100000, code(16), 0, note))))
                .hasMessageContaining("runs past the end of its PT_NOTE segment");
    }

    @Test
    void shouldRejectA32BitOrNonX86Elf() {
        byte[] image = TestImages.elf(0x100000, code(16), 0, TestImages.pvhNote(0x100000, 4));
        byte[] elf32 = image.clone();
        elf32[4] = 1;
        assertThatThrownBy(() -> ElfKernel.parse(segment(elf32))).hasMessageContaining("not a 64-bit ELF");
        byte[] arm = image.clone();
        arm[18] = (byte) 183;
        assertThatThrownBy(() -> ElfKernel.parse(segment(arm))).hasMessageContaining("e_machine is 183");
    }
}
