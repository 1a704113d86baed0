package io.jremus.cli.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KernelModulesTest {
    @TempDir
    Path release;

    private void module(String relPath, String name, String depends) throws IOException {
        Path p = release.resolve("kernel").resolve(relPath);
        Files.createDirectories(p.getParent());
        byte[] elf = FakeElf.module("license=GPL", "depends=" + depends, "name=" + name);
        Files.write(p, relPath.endsWith(".xz") ? FakeBzImage.xz(elf) : elf);
    }

    @Test
    void shouldOrderModulesAfterTheirDependenciesAndSkipBuiltins() throws Exception {
        module("drivers/virtio/virtio.ko", "virtio", "");
        module("drivers/virtio/virtio_ring.ko", "virtio_ring", "");
        module("drivers/virtio/virtio_mmio.ko.xz", "virtio_mmio", "virtio_ring,virtio");
        module("drivers/net/virtio_net.ko", "virtio_net", "net_failover,virtio_ring,virtio");
        module("drivers/net/net_failover.ko", "net_failover", "failover");
        module("fs/ext4/ext4.ko", "ext4", "mbcache,jbd2");
        module("fs/mbcache.ko", "mbcache", "");
        Files.writeString(release.resolve("modules.builtin"), "kernel/net/core/failover.ko\nkernel/fs/jbd2/jbd2.ko\n");

        List<KernelModules.Module> order = KernelModules.scan(release)
                .loadOrder(List.of("virtio_mmio", "virtio_net", "crc32c-intel", "ext4"), Set.of("crc32c-intel"));

        assertThat(order).extracting(KernelModules.Module::name)
                .containsExactly("virtio_ring", "virtio", "virtio_mmio", "net_failover", "virtio_net", "mbcache", "ext4");
        KernelModules.Module mmio = order.get(2);
        assertThat(mmio.fileName()).isEqualTo("virtio_mmio.ko");
        assertThat(Elf64.hasElfMagic(java.nio.ByteBuffer.wrap(mmio.elf()))).as("decompressed from .ko.xz").isTrue();
    }

    @Test
    void shouldMatchDashesAndUnderscoresAlike() throws Exception {
        module("arch/x86/crypto/crc32c-intel.ko", "crc32c_intel", "");
        List<KernelModules.Module> order = KernelModules.scan(release).loadOrder(List.of("crc32c-intel"), Set.of());
        assertThat(order).extracting(KernelModules.Module::fileName).containsExactly("crc32c-intel.ko");
    }

    @Test
    void shouldNameAMissingModule() throws Exception {
        module("fs/ext4/ext4.ko", "ext4", "jbd2");
        assertThatThrownBy(() -> KernelModules.scan(release).loadOrder(List.of("ext4"), Set.of()))
                .isInstanceOf(ImageBuildException.class)
                .hasMessage("kernel module jbd2 is neither in the package nor built in");
    }
}
