package io.jremus.cli.image;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The one entry point for building guest images, as {@code jremus image build} and tests use
 * it: the Linux image ({@link LinuxImageBuilder}), the test guest ({@link TestGuestImageBuilder}),
 * or both. The test guest needs the source tree; without one, asking for it is an error.
 */
public final class ImageBuilder {

    public enum Which { ALL, GUEST, LINUX }

    /** What was built; an image not asked for is empty. */
    public record Artifacts(Optional<LinuxImageBuilder.LinuxImage> linux, Optional<Path> testGuest) {
        /** Every artifact file: vmlinuz, vmlinux, initramfs, test guest ELF (those built). */
        public List<Path> paths() {
            List<Path> all = new ArrayList<>();
            linux.ifPresent(l -> all.addAll(List.of(l.vmlinuz(), l.vmlinux(), l.initramfs())));
            testGuest.ifPresent(all::add);
            return all;
        }
    }

    private final LinuxImageBuilder linux;
    private final TestGuestImageBuilder guest;

    /** {@code guest} may be null when there is no source tree. */
    public ImageBuilder(LinuxImageBuilder linux, TestGuestImageBuilder guest) {
        this.linux = linux;
        this.guest = guest;
    }

    /** Real commands, the XDG cache, progress on {@code console}; {@code repoRoot} may be null. */
    public static ImageBuilder standard(Path repoRoot, PrintStream console) {
        TestGuestImageBuilder guest = repoRoot == null ? null
                : new TestGuestImageBuilder(repoRoot, CommandRunner.processes(), console);
        return new ImageBuilder(LinuxImageBuilder.standard(console), guest);
    }

    public Artifacts build(Which which, boolean force) throws ImageBuildException {
        Optional<Path> testGuest = Optional.empty();
        if (which != Which.LINUX) {
            if (guest == null) {
                throw new ImageBuildException("the test guest is built from the jremus source tree, which is unknown here"
                        + " (set -Djremus.home=<repo>, or use --linux)");
            }
            testGuest = Optional.of(guest.build(force));
        }
        Optional<LinuxImageBuilder.LinuxImage> image = which == Which.GUEST ? Optional.empty() : Optional.of(linux.build(force));
        return new Artifacts(image, testGuest);
    }
}
