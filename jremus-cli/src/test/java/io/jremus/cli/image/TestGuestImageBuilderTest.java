package io.jremus.cli.image;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Runs real make on small stand-in Makefiles: the guest/ tree is another engineer's work in progress. */
class TestGuestImageBuilderTest {
    @TempDir
    Path repo;

    @BeforeEach
    void needsMake() {
        boolean hasMake = Arrays.stream(System.getenv().getOrDefault("PATH", "").split(":"))
                .anyMatch(d -> Files.isExecutable(Path.of(d, "make")));
        Assumptions.assumeTrue(hasMake, "make is not on PATH: skipping the test guest build tests");
    }

    private TestGuestImageBuilder builder() {
        return new TestGuestImageBuilder(repo, CommandRunner.processes(), new PrintStream(PrintStream.nullOutputStream()));
    }

    private void makefile(String recipe) throws Exception {
        Files.createDirectories(repo.resolve("guest"));
        Files.writeString(repo.resolve("guest/Makefile"), "build/jremus-guest.elf:\n\t" + recipe + "\n");
    }

    @Test
    void shouldRunMakeAndReturnTheGuestElf() throws Exception {
        makefile("mkdir -p build && printf 'ELF' > $@");
        Path elf = builder().build(false);
        assertThat(elf).isEqualTo(repo.resolve("guest/build/jremus-guest.elf"));
        assertThat(elf).hasContent("ELF");
        assertThat(builder().build(true)).isEqualTo(elf);
    }

    @Test
    void shouldQuoteTheCompilerErrorWhenMakeFails() throws Exception {
        makefile("@echo 'x.c:3:1: error: expected declaration' >&2; exit 1");
        assertThatThrownBy(() -> builder().build(false)).isInstanceOf(ImageBuildException.class)
                .hasMessage("'make -C " + repo.resolve("guest") + "' failed (exit 2): x.c:3:1: error: expected declaration");
    }

    @Test
    void shouldExplainAMissingGuestTreeOrOutput() throws Exception {
        assertThatThrownBy(() -> builder().build(false))
                .hasMessage("no guest/Makefile under " + repo + " (is jremus.home the jremus source tree?)");
        makefile("@true");
        assertThatThrownBy(() -> builder().build(false))
                .hasMessage("'make -C " + repo.resolve("guest") + "' succeeded but did not produce "
                        + repo.resolve("guest/build/jremus-guest.elf"));
    }
}
