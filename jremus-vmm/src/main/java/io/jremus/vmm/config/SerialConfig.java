package io.jremus.vmm.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where the guest's COM1 output goes. {@code serial = "stdout"} (the default), {@code "none"},
 * or any other string, which is a file path (appended to, created if missing).
 */
public sealed interface SerialConfig {

    /** The VMM's standard output. */
    record Stdout() implements SerialConfig {
    }

    /** Discarded. The device still exists so the guest's writes do not fault. */
    record None() implements SerialConfig {
    }

    /** A file; {@code path} is absolute and its directory existed when the config was read. */
    record ToFile(Path path) implements SerialConfig {
        public ToFile {
            Objects.requireNonNull(path, "path");
        }
    }
}
