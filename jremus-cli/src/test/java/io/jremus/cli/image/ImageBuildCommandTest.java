package io.jremus.cli.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class ImageBuildCommandTest {
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private ImageBuildCommand parse(String... args) {
        ImageBuildCommand cmd = new ImageBuildCommand(null, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        new CommandLine(cmd).parseArgs(args);
        return cmd;
    }

    @Test
    void shouldMapOptionsToWhatToBuild() {
        assertThat(parse().which()).isEqualTo(ImageBuilder.Which.ALL);
        assertThat(parse("--all").which()).isEqualTo(ImageBuilder.Which.ALL);
        assertThat(parse("--linux").which()).isEqualTo(ImageBuilder.Which.LINUX);
        assertThat(parse("--guest", "--force").which()).isEqualTo(ImageBuilder.Which.GUEST);
        assertThat(parse("--guest", "--force").force).isTrue();
    }

    @Test
    void shouldRejectTwoSelections() {
        CommandLine cl = new CommandLine(new ImageBuildCommand(null, System.out, System.err));
        cl.setErr(new java.io.PrintWriter(new java.io.StringWriter()));
        assertThat(cl.execute("--linux", "--guest")).isEqualTo(2);
    }

    @Test
    void shouldPrintTheArtifactsOfALinuxBuild(@TempDir Path cache) {
        FakeApt apt = new FakeApt();
        ImageBuildCommand cmd = parse("--linux");
        ImageBuilder builder = new ImageBuilder(new LinuxImageBuilder(cache, apt, new PrintStream(out, true)), null);

        assertThat(cmd.run(builder)).isZero();

        String printed = out.toString(StandardCharsets.UTF_8);
        assertThat(printed).contains("linux kernel (vmlinux):  " + cache.resolve("linux-9.9.1-1-busybox-1_1.35.0-4+b1/vmlinux"));
        assertThat(printed).contains("from linux-image-9.9.0-1-amd64 9.9.1-1, busybox-static 1:1.35.0-4+b1");
    }

    @Test
    void shouldFailWithOneLineWhenTheGuestTreeIsUnknown(@TempDir Path cache) {
        ImageBuildCommand cmd = parse("--guest");
        ImageBuilder builder = new ImageBuilder(new LinuxImageBuilder(cache, new FakeApt(), new PrintStream(out)), null);

        assertThat(cmd.run(builder)).isEqualTo(1);

        assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("jremus image build: the test guest is built from the"
                + " jremus source tree, which is unknown here (set -Djremus.home=<repo>, or use --linux)" + System.lineSeparator());
    }
}
