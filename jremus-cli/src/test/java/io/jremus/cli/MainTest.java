package io.jremus.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** User mistakes on the command line end as one line on stderr and status 2. */
class MainTest {
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private PrintStream savedErr;

    @BeforeEach
    void captureStderr() {
        savedErr = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restoreStderr() {
        System.setErr(savedErr);
    }

    private String stderr() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void shouldReportABadConfigValueInOneLineNamingTheKey(@TempDir Path dir) throws Exception {
        Path kernel = Files.writeString(dir.resolve("k.elf"), "x");
        Path cfg = Files.writeString(dir.resolve("vm.toml"), "kernel = \"" + kernel + "\"\nmemory = \"12X\"\n");
        int status = Main.execute("run", cfg.toString());
        assertThat(status).isEqualTo(Main.EXIT_USAGE);
        assertThat(stderr().strip()).doesNotContain("\n").contains("memory").contains("12X").startsWith("jremus: ");
    }

    @Test
    void shouldReportAMissingKernelFile(@TempDir Path dir) {
        int status = Main.execute("run", "--kernel", dir.resolve("nope.elf").toString());
        assertThat(status).isEqualTo(Main.EXIT_USAGE);
        assertThat(stderr().strip()).doesNotContain("\n").contains("nope.elf");
    }

    @Test
    void shouldAskForAConfigOrAKernel() {
        int status = Main.execute("run");
        assertThat(status).isEqualTo(Main.EXIT_USAGE);
        assertThat(stderr()).contains("give a VM config file or at least --kernel");
    }

    @Test
    void shouldReportAKernelThatIsNeitherElfNorBzImage(@TempDir Path dir) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(io.jremus.vmm.kvm.Kvm.available(), "skipped: needs /dev/kvm to get as far as loading the kernel");
        Path kernel = Files.writeString(dir.resolve("k.bin"), "definitely not a kernel image");
        int status = Main.execute("run", "--kernel", kernel.toString(), "--memory", "32M");
        assertThat(status).isEqualTo(Main.EXIT_USAGE);
        assertThat(stderr().strip()).doesNotContain("\n").contains("neither an ELF kernel nor a bzImage");
    }
}
