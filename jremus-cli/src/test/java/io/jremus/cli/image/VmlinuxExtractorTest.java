package io.jremus.cli.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VmlinuxExtractorTest {
    @TempDir
    Path dir;

    /** A fake vmlinux: an ELF with the PVH note, padded so the compressors have something to do. */
    private static final byte[] VMLINUX = FakeElf.withNote("Xen", Elf64.XEN_ELFNOTE_PHYS32_ENTRY, FakeElf.pvhDesc(0x1000850), 100_000);

    @Test
    void shouldExtractAnXzPayloadFoundThroughTheSetupHeader() throws Exception {
        byte[] xz = FakeBzImage.xz(VMLINUX);
        Path bz = Files.write(dir.resolve("vmlinuz"), FakeBzImage.build(xz, VMLINUX.length, 0x020F));

        VmlinuxExtractor.Payload payload = VmlinuxExtractor.locate(Files.readAllBytes(bz));
        VmlinuxExtractor.Result r = VmlinuxExtractor.extract(bz, dir.resolve("vmlinux"));

        assertThat(payload).isEqualTo(new VmlinuxExtractor.Payload(VmlinuxExtractor.Compression.XZ,
                FakeBzImage.PM_START + FakeBzImage.DECOMPRESSOR_BYTES, xz.length + 4));
        assertThat(Files.readAllBytes(dir.resolve("vmlinux"))).isEqualTo(VMLINUX);
        assertThat(r.compression()).isEqualTo(VmlinuxExtractor.Compression.XZ);
        assertThat(r.vmlinuxBytes()).isEqualTo(VMLINUX.length);
        assertThat(r.pvhEntry()).contains(0x1000850L);
    }

    @Test
    void shouldExtractAGzipPayload() throws Exception {
        Path bz = Files.write(dir.resolve("vmlinuz"), FakeBzImage.build(FakeBzImage.gzip(VMLINUX), VMLINUX.length, 0x020F));
        VmlinuxExtractor.Result r = VmlinuxExtractor.extract(bz, dir.resolve("vmlinux"));
        assertThat(r.compression()).isEqualTo(VmlinuxExtractor.Compression.GZIP);
        assertThat(Files.readAllBytes(dir.resolve("vmlinux"))).isEqualTo(VMLINUX);
    }

    @Test
    void shouldScanForTheMagicWhenTheHeaderIsTooOldForPayloadFields() throws Exception {
        byte[] image = FakeBzImage.build(FakeBzImage.xz(VMLINUX), VMLINUX.length, 0x0206);
        ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN).putInt(0x248, 0xDEAD).putInt(0x24C, 0xBEEF);

        VmlinuxExtractor.Payload p = VmlinuxExtractor.locate(image);

        assertThat(p.offset()).isEqualTo(FakeBzImage.PM_START + FakeBzImage.DECOMPRESSOR_BYTES);
        assertThat(VmlinuxExtractor.extract(image, p, dir.resolve("vmlinux")).vmlinuxBytes()).isEqualTo(VMLINUX.length);
    }

    @Test
    void shouldReportAKernelWithoutPvhNote() throws Exception {
        byte[] elf = FakeElf.withNote("Linux", 6, new byte[] {'x', 0}, 10);
        Path bz = Files.write(dir.resolve("vmlinuz"), FakeBzImage.build(FakeBzImage.xz(elf), elf.length, 0x020F));
        assertThat(VmlinuxExtractor.extract(bz, dir.resolve("vmlinux")).pvhEntry()).isEmpty();
    }

    @Test
    void shouldExplainWhatItCannotExtract() throws Exception {
        assertThatThrownBy(() -> VmlinuxExtractor.locate(new byte[4096]))
                .isInstanceOf(ImageBuildException.class).hasMessage("not a bzImage: no \"HdrS\" setup header at 0x202");

        byte[] zstd = FakeBzImage.build(new byte[] {0x28, (byte) 0xB5, 0x2F, (byte) 0xFD, 1, 2, 3}, 100, 0x020F);
        assertThatThrownBy(() -> VmlinuxExtractor.locate(zstd))
                .hasMessage("the kernel payload is zstd-compressed; only xz and gzip kernels are supported");

        byte[] notElf = "this is no ELF file".repeat(10).getBytes();
        Path bz = Files.write(dir.resolve("vmlinuz"), FakeBzImage.build(FakeBzImage.xz(notElf), notElf.length, 0x020F));
        assertThatThrownBy(() -> VmlinuxExtractor.extract(bz, dir.resolve("vmlinux")))
                .hasMessage("the decompressed kernel is not an ELF file (no \\x7fELF at its start)");

        byte[] corrupt = FakeBzImage.build(FakeBzImage.xz(VMLINUX), VMLINUX.length, 0x020F);
        corrupt[FakeBzImage.PM_START + FakeBzImage.DECOMPRESSOR_BYTES + 40] ^= 0x55;
        Path bad = Files.write(dir.resolve("corrupt"), corrupt);
        assertThatThrownBy(() -> VmlinuxExtractor.extract(bad, dir.resolve("vmlinux")))
                .isInstanceOf(ImageBuildException.class).hasMessageStartingWith("the kernel's xz payload is corrupt: ");
    }
}
