package io.jremus.cli.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.nio.file.Files;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real thing: apt-get download of Debian's kernel and busybox (about 70 MB) into the user's
 * image cache. Opt-in, since it needs the network and a Debian host:
 * {@code mvn -pl jremus-cli test -Djremus.test.realImageBuild=true -Dtest=RealLinuxImageBuildTest}.
 */
@EnabledIfSystemProperty(named = "jremus.test.realImageBuild", matches = "true")
class RealLinuxImageBuildTest {
    @Test
    void shouldBuildOrReuseTheDebianImage() throws Exception {
        LinuxImageBuilder.LinuxImage image = LinuxImageBuilder.standard(System.out).build(false);

        assertThat(image.manifest().pvhEntry()).as("Debian's kernel has CONFIG_PVH").isNotNull();
        assertThat(image.manifest().modules()).contains("virtio_mmio.ko", "virtio_net.ko", "virtio_blk.ko", "ext4.ko");
        assertThat(Files.size(image.vmlinux())).isGreaterThan(Files.size(image.vmlinuz()));
    }
}
