package io.jremus.vmm.boot;

import io.jremus.vmm.MachineLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KernelBootTest {
    private static final long MIB = 1 << 20;
    private final GuestMemoryFixture ram = new GuestMemoryFixture(128 * MIB);
    @TempDir
    Path dir;

    @AfterEach
    void free() {
        ram.close();
    }

    @Test
    void shouldBootAnElfFileThroughPvh() throws IOException {
        Path k = Files.write(dir.resolve("guest.elf"), TestImages.elf(0x100000, new byte[64], 0, TestImages.pvhNote(0x100000, 4)));
        Path rd = Files.write(dir.resolve("initrd"), new byte[100]);
        BootPlan p = KernelBoot.boot(ram.memory, k, rd, "quiet", 0);
        assertThat(p.mode()).isEqualTo(CpuMode.PROTECTED_32);
        assertThat(p.loaded().format()).isEqualTo("pvh-elf");
        assertThat(p.loaded().initrdSize()).isEqualTo(100);
    }

    @Test
    void shouldBootABzImageFileThroughThe64BitEntry() throws IOException {
        Path k = Files.write(dir.resolve("vmlinuz"), TestImages.bzImage(new TestImages.BzImageSpec()));
        BootPlan p = KernelBoot.boot(ram.memory, k, null, "quiet", 0);
        assertThat(p.mode()).isEqualTo(CpuMode.LONG_64);
        assertThat(p.loaded().format()).isEqualTo("bzimage");
    }

    @Test
    void shouldRejectAFileThatIsNeitherFormat() throws IOException {
        Path k = Files.write(dir.resolve("junk"), new byte[4096]);
        assertThatThrownBy(() -> KernelBoot.boot(ram.memory, k, null, "", 0))
                .isInstanceOf(BootException.class).hasMessageContaining("neither an ELF kernel nor a bzImage");
    }

    /** A file the guest image builder caches under ~/.cache/jremus, if it has run on this machine. */
    private static Optional<Path> cached(String name) throws IOException {
        Path cache = Path.of(System.getProperty("user.home"), ".cache", "jremus");
        if (!Files.isDirectory(cache)) return Optional.empty();
        try (Stream<Path> files = Files.walk(cache, 4)) {
            return files.filter(Files::isRegularFile).filter(f -> f.getFileName().toString().equals(name)).findFirst();
        }
    }

    @Test
    void shouldBootTheCachedDebianVmlinuxThroughItsPvhEntry() throws IOException {
        Optional<Path> kernel = cached("vmlinux");
        Assumptions.assumeTrue(kernel.isPresent(), "no vmlinux under ~/.cache/jremus: the image builder has not run here");
        Optional<Path> initrd = cached("initramfs.cpio.gz");
        try (GuestMemoryFixture big = new GuestMemoryFixture(256 * MIB)) {
            BootPlan p = KernelBoot.boot(big.memory, kernel.get(), initrd.orElse(null), "console=ttyS0", MachineLayout.ACPI_TABLES);
            assertThat(p.mode()).isEqualTo(CpuMode.PROTECTED_32);
            assertThat(p.loaded().kernelStart()).isEqualTo(16 * MIB);
            assertThat(p.rip()).isEqualTo(0x1000850); // Debian 6.1's PVH entry (shared notes)
            if (initrd.isPresent()) assertThat(p.loaded().initrdStart()).isGreaterThanOrEqualTo(p.loaded().kernelEnd());
        }
    }

    @Test
    void shouldBootTheCachedDebianBzImageThroughThe64BitEntry() throws IOException {
        Optional<Path> kernel = cached("vmlinuz");
        Assumptions.assumeTrue(kernel.isPresent(), "no vmlinuz under ~/.cache/jremus: the image builder has not run here");
        Optional<Path> initrd = cached("initramfs.cpio.gz");
        try (GuestMemoryFixture big = new GuestMemoryFixture(256 * MIB)) {
            BootPlan p = KernelBoot.boot(big.memory, kernel.get(), initrd.orElse(null), "console=ttyS0", MachineLayout.ACPI_TABLES);
            assertThat(p.mode()).isEqualTo(CpuMode.LONG_64);
            assertThat(p.loaded().kernelStart()).isEqualTo(16 * MIB); // Debian's pref_address
            assertThat(p.rip()).isEqualTo(16 * MIB + 0x200);
            if (initrd.isPresent()) assertThat(p.loaded().initrdStart()).isGreaterThanOrEqualTo(p.loaded().kernelEnd());
        }
    }
}
