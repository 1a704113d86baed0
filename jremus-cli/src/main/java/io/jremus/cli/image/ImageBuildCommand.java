package io.jremus.cli.image;

import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code jremus image build [--linux|--guest|--all] [--force]}: builds guest images and prints
 * where they are. Meant to be registered as the {@code build} subcommand of {@code image}. The
 * repository root (needed for the test guest only) comes from the constructor or the
 * {@code jremus.home} system property that the launcher sets. Exit status 0 on success, 1 with a
 * one-line message on stderr when a build fails.
 */
@Command(name = "build", mixinStandardHelpOptions = true,
        description = {"Build guest images: Debian's Linux kernel with a busybox initramfs (cached by package"
                + " versions), and the project's test guest (make -C guest).",
                "Without an option, builds both."})
public final class ImageBuildCommand implements Callable<Integer> {

    static final class Selection {
        @Option(names = "--linux", description = "Only the Linux kernel + initramfs.")
        boolean linux;
        @Option(names = "--guest", description = "Only the test guest.")
        boolean guest;
        @Option(names = "--all", description = "Both (the default).")
        boolean all;
    }

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Selection selection;

    @Option(names = "--force", description = "Rebuild even if a cached or up-to-date image exists.")
    boolean force;

    private final Path repoRoot;
    private final PrintStream out;
    private final PrintStream err;

    /** For picocli: the repository root from {@code -Djremus.home}, output on stdout/stderr. */
    public ImageBuildCommand() {
        this(repoFromProperty(), System.out, System.err);
    }

    /** {@code repoRoot} may be null if there is no source tree (then only --linux works). */
    public ImageBuildCommand(Path repoRoot, PrintStream out, PrintStream err) {
        this.repoRoot = repoRoot;
        this.out = out;
        this.err = err;
    }

    ImageBuilder.Which which() {
        if (selection == null || selection.all) {
            return ImageBuilder.Which.ALL;
        }
        return selection.linux ? ImageBuilder.Which.LINUX : ImageBuilder.Which.GUEST;
    }

    @Override
    public Integer call() {
        return run(ImageBuilder.standard(repoRoot, out));
    }

    /** Runs with a given builder; separate so tests can pass one with stand-in commands. */
    int run(ImageBuilder builder) {
        try {
            ImageBuilder.Artifacts a = builder.build(which(), force);
            a.linux().ifPresent(l -> {
                out.println("linux kernel (bzImage):  " + describe(l.vmlinuz()));
                out.println("linux kernel (vmlinux):  " + describe(l.vmlinux()));
                out.println("linux initramfs:         " + describe(l.initramfs()));
                out.println("  from " + l.manifest().kernelPackage() + " " + l.manifest().kernelVersion()
                        + ", " + l.manifest().busyboxPackage() + " " + l.manifest().busyboxVersion());
            });
            a.testGuest().ifPresent(g -> out.println("test guest:              " + describe(g)));
            return 0;
        } catch (ImageBuildException e) {
            err.println("jremus image build: " + e.getMessage());
            return 1;
        }
    }

    private static String describe(Path p) {
        try {
            return p + " (" + Progress.megabytes(Files.size(p)) + ")";
        } catch (IOException e) {
            return p.toString();
        }
    }

    private static Path repoFromProperty() {
        String home = System.getProperty("jremus.home");
        return home == null || home.isBlank() ? null : Path.of(home);
    }
}
