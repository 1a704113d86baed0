package io.jremus.cli.image;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the project's own test guest by running its Makefile: {@code make -C <repo>/guest},
 * whose product is {@value #OUTPUT}. Assumes the jremus source tree (found by the caller, e.g.
 * from {@code jremus.home}) and a host with make and the guest's compiler. make decides what is
 * out of date; {@code force} makes it rebuild everything ({@code -B}).
 */
public final class TestGuestImageBuilder {
    public static final String OUTPUT = "guest/build/jremus-guest.elf";

    private final Path repoRoot;
    private final CommandRunner runner;
    private final Progress progress;

    public TestGuestImageBuilder(Path repoRoot, CommandRunner runner, PrintStream console) {
        this.repoRoot = repoRoot.toAbsolutePath().normalize();
        this.runner = runner;
        this.progress = new Progress(console, 1);
    }

    /** Runs make and returns the absolute path of the guest ELF. */
    public Path build(boolean force) throws ImageBuildException {
        Path guestDir = repoRoot.resolve("guest");
        if (!Files.isRegularFile(guestDir.resolve("Makefile"))) {
            throw new ImageBuildException("no guest/Makefile under " + repoRoot + " (is jremus.home the jremus source tree?)");
        }
        List<String> make = new ArrayList<>(List.of("make", "-C", guestDir.toString()));
        if (force) {
            make.add("-B");
        }
        progress.step("building the test guest (" + String.join(" ", make) + ")");
        CommandRunner.Result r = runner.run(make, repoRoot);
        if (r.exitCode() != 0) {
            throw new ImageBuildException("'" + String.join(" ", make) + "' failed (exit " + r.exitCode() + "): " + reason(r));
        }
        Path elf = repoRoot.resolve(OUTPUT);
        if (!Files.isRegularFile(elf)) {
            throw new ImageBuildException("'" + String.join(" ", make) + "' succeeded but did not produce " + elf);
        }
        return elf;
    }

    /**
     * The most useful line of a failed make: the first compiler or linker error, since make's
     * own last line ("make: *** [Makefile:12: x.o] Error 1") says only which rule failed.
     */
    static String reason(CommandRunner.Result r) {
        for (String line : (r.stderr() + "\n" + r.stdout()).lines().toList()) {
            if (line.contains("error:") || line.contains("Error:") || line.contains("undefined reference")) {
                return line.strip();
            }
        }
        return r.lastErrorLine();
    }
}
