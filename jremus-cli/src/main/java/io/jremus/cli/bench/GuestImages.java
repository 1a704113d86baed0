package io.jremus.cli.bench;

import io.jremus.cli.image.CommandRunner;
import io.jremus.cli.image.ImageBuildException;
import io.jremus.cli.image.TestGuestImageBuilder;
import io.jremus.cli.UserException;

import java.nio.file.Path;

/** Finds (building if needed) the images benchmarks run. */
final class GuestImages {
    private GuestImages() {
    }

    static Path testGuest(Path home) {
        try {
            return new TestGuestImageBuilder(home, CommandRunner.processes(), System.err).build(false);
        } catch (ImageBuildException e) {
            throw new UserException(e.getMessage());
        }
    }
}
