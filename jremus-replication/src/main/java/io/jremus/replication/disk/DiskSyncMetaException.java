package io.jremus.replication.disk;

import java.io.IOException;
import java.nio.file.Path;

/** A disk's sync metadata file is there but unusable; the disk is then treated as unknown (full copy). */
public final class DiskSyncMetaException extends IOException {
    private final Path file;

    public DiskSyncMetaException(Path file, String problem) {
        super("disk sync metadata " + file + " refused: " + problem + " (the disk will be copied in full)");
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
