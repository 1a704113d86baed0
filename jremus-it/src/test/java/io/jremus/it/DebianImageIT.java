package io.jremus.it;

import io.jremus.cli.image.LinuxImageBuilder;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real thing: Debian's kernel and busybox from apt (about 70 MB) turned into a vmlinux and an
 * initramfs in the user's image cache (reused when present; {@code scripts/test.sh} builds it
 * before the tests, so on a fresh machine this checks a real download and extraction).
 */
class DebianImageIT {
    @Test
    void shouldBuildOrReuseTheDebianImage() throws Exception {
        LinuxImageBuilder.LinuxImage image = LinuxImageBuilder.standard(System.out).build(false);

        assertThat(image.manifest().pvhEntry()).as("Debian's kernel has CONFIG_PVH").isNotNull();
        assertThat(image.manifest().modules()).contains("virtio_mmio.ko", "virtio_net.ko", "virtio_blk.ko", "ext4.ko");
        assertThat(Files.size(image.vmlinux())).isGreaterThan(Files.size(image.vmlinuz()));
    }
}
