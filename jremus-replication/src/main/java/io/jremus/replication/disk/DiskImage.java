package io.jremus.replication.disk;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The backup's copy of a VM disk, as {@link EpochDiskBuffer} writes it: positional writes and a
 * data sync. {@link FileDiskImage} is the real one; tests substitute doubles that record calls.
 */
public interface DiskImage extends AutoCloseable {
    /** Size in bytes (a multiple of 512). */
    long sizeBytes();

    /** Writes all of {@code data} at byte {@code offset}, or throws. Offset and length are in range. */
    void write(long offset, ByteBuffer data) throws IOException;

    /** Returns once every write so far is durable (fdatasync). */
    void sync() throws IOException;

    @Override
    void close() throws IOException;
}
