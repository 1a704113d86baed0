package io.jremus.vmm.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One {@code [[disk]]} table: a virtio-blk disk backed by a host file or block device.
 *
 * @param path     absolute path; it existed (and was writable unless read-only) when the config was read
 * @param readonly whether the guest sees a read-only disk
 */
public record DiskConfig(Path path, boolean readonly) {
    public DiskConfig {
        Objects.requireNonNull(path, "path");
    }
}
