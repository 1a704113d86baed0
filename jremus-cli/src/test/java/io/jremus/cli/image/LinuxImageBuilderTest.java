package io.jremus.cli.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LinuxImageBuilderTest {
    @TempDir
    Path cache;
    final FakeApt apt = new FakeApt();
    final ByteArrayOutputStream console = new ByteArrayOutputStream();

    private LinuxImageBuilder builder() {
        return new LinuxImageBuilder(cache, apt, new PrintStream(console, true, StandardCharsets.UTF_8));
    }

    private String console() {
        return console.toString(StandardCharsets.UTF_8);
    }

    @Test
    void shouldBuildACompleteCacheEntryFromThePackages() throws Exception {
        LinuxImageBuilder.LinuxImage image = builder().build(false);

        Path entry = cache.resolve("linux-9.9.1-1-busybox-1_1.35.0-4+b1");
        assertThat(image.directory()).isEqualTo(entry);
        assertThat(image.fromCache()).isFalse();
        assertThat(Files.readAllBytes(image.vmlinux())).isEqualTo(FakeApt.VMLINUX);
        assertThat(Files.exists(image.vmlinuz())).isTrue();
        try (Stream<Path> s = Files.list(cache)) {
            assertThat(s.map(p -> p.getFileName().toString()))
                    .as("no staging directory left").containsExactlyInAnyOrder(entry.getFileName().toString(), ".lock");
        }
        try (Stream<Path> s = Files.list(entry)) {
            assertThat(s.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("vmlinuz", "vmlinux", "initramfs.cpio.gz", "manifest.json");
        }
        ImageManifest m = image.manifest();
        assertThat(m).isEqualTo(ImageManifest.read(entry));
        assertThat(m.kernelPackage()).isEqualTo(FakeApt.KERNEL_PKG);
        assertThat(m.kernelRelease()).isEqualTo(FakeApt.RELEASE);
        assertThat(m.busyboxVersion()).isEqualTo("1:1.35.0-4+b1");
        assertThat(m.pvhEntry()).isEqualTo("0x1000850");
        assertThat(m.modules()).containsExactly("virtio.ko", "virtio_ring.ko", "virtio_mmio.ko", "virtio_pci.ko",
                "virtio_net.ko", "virtio_blk.ko", "crc32c_generic.ko", "jbd2.ko", "ext4.ko");
        assertThat(m.files().get("vmlinux")).isEqualTo(ImageManifest.describe(image.vmlinux()));

        byte[] cpio = new GZIPInputStream(Files.newInputStream(image.initramfs())).readAllBytes();
        List<CpioNewcWriterTest.Entry> entries = CpioNewcWriterTest.parse(cpio);
        assertThat(entries).extracting(CpioNewcWriterTest.Entry::name)
                .contains("init", "bin/busybox", "bin/sh", "bin/insmod", "dev/console", "lib/modules/ext4.ko");
        String init = new String(entries.stream().filter(e -> e.name().equals("init")).findFirst().orElseThrow().data(),
                StandardCharsets.UTF_8);
        assertThat(init).startsWith("#!/bin/sh\n").contains(InitScript.MARKER)
                .contains("for m in virtio.ko virtio_ring.ko virtio_mmio.ko virtio_pci.ko virtio_net.ko virtio_blk.ko"
                        + " crc32c_generic.ko jbd2.ko ext4.ko; do");

        assertThat(console()).contains("[1/6] resolving package versions (apt-cache)...",
                "[4/6] extracting vmlinux from vmlinuz (0.0 MB, xz)...", "[6/6] writing manifest");
        assertThat(apt.ran("apt-get update")).isFalse();
    }

    @Test
    void shouldReuseACompleteEntryWithoutDownloading() throws Exception {
        LinuxImageBuilder.LinuxImage first = builder().build(false);
        apt.commands.clear();
        console.reset();

        LinuxImageBuilder.LinuxImage second = builder().build(false);

        assertThat(second.fromCache()).isTrue();
        assertThat(second.manifest()).isEqualTo(first.manifest());
        assertThat(apt.ran("apt-get")).as("no apt-get when cached").isFalse();
        assertThat(apt.ran("dpkg-deb")).isFalse();
        assertThat(console()).contains("linux image cached: " + first.directory());
    }

    @Test
    void shouldRemoveWhatAKilledBuildLeftBehind() throws Exception {
        Files.createDirectories(cache.resolve(".tmp-linux-1-busybox-1-0000/.work"));
        Files.createDirectories(cache.resolve(".old-linux-1-busybox-1-0000"));
        builder().build(false);
        try (Stream<Path> s = Files.list(cache)) {
            assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(".tmp-") || n.startsWith(".old-"));
        }
    }

    @Test
    void shouldRebuildAnIncompleteEntryOrWhenForced() throws Exception {
        LinuxImageBuilder.LinuxImage first = builder().build(false);
        Files.write(first.vmlinux(), new byte[10]); // as if truncated

        apt.commands.clear();
        assertThat(builder().build(false).fromCache()).isFalse();
        assertThat(Files.readAllBytes(first.vmlinux())).isEqualTo(FakeApt.VMLINUX);

        apt.commands.clear();
        assertThat(builder().build(true).fromCache()).isFalse();
        assertThat(apt.ran("apt-get download")).isTrue();
    }

    @Test
    void shouldRunAptGetUpdateWhenAptKnowsNothing() throws Exception {
        apt.knowsPackages = false;
        assertThat(builder().build(false).fromCache()).isFalse();
        assertThat(apt.commands.getFirst()).isEqualTo("apt-cache depends linux-image-amd64");
        assertThat(apt.ran("apt-get update")).isTrue();
    }

    @Test
    void shouldFailWithOneLineWhenAptStillKnowsNothing() {
        apt.knowsPackages = false;
        apt.knowsPackagesAfterUpdate = false;
        assertThatThrownBy(() -> builder().build(false)).isInstanceOf(ImageBuildException.class)
                .hasMessage("apt knows no linux-image-amd64 or busybox-static even after apt-get update"
                        + " (is Debian's main component in the apt sources?)");
    }

    @Test
    void shouldQuoteTheFailedCommandAndLeaveNoPartialEntry() throws Exception {
        apt.downloadExit = 100;
        assertThatThrownBy(() -> builder().build(false)).isInstanceOf(ImageBuildException.class)
                .hasMessage("'apt-get download " + FakeApt.KERNEL_PKG + "=9.9.1-1' failed (exit 100): "
                        + "E: Failed to fetch x  404  Not Found");
        assertThat(apt.ran("apt-get update")).as("a failed download refreshes the lists once").isTrue();
        try (Stream<Path> s = Files.list(cache)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly(".lock");
        }
    }

    @Test
    void shouldPutTheCacheUnderXdgCacheHomeOrHome() {
        assertThat(ImageCache.defaultRoot(java.util.Map.of("XDG_CACHE_HOME", "/x/cache", "HOME", "/home/u")))
                .isEqualTo(Path.of("/x/cache/jremus/images"));
        assertThat(ImageCache.defaultRoot(java.util.Map.of("HOME", "/home/u")))
                .isEqualTo(Path.of("/home/u/.cache/jremus/images"));
        assertThat(ImageCache.key("6.1.192-2", "1:1.35.0-4+deb12u1+b1")).isEqualTo("linux-6.1.192-2-busybox-1_1.35.0-4+deb12u1+b1");
        assertThat(ImageCache.sanitize("1.0~rc1/x")).isEqualTo("1.0_rc1_x");
    }
}
