package io.jremus.vmm.devices.virtio.blk;

import io.jremus.vmm.net.IoVec;
import java.io.IOException;

/**
 * Storage behind a virtio-blk device: a byte-addressed image the device reads and writes with
 * scatter-gather vectors that point straight into guest memory. Offsets and lengths reaching
 * here have been checked against {@link #sizeBytes()} and are multiples of 512.
 *
 * <p>Called on one thread at a time (the device's request thread). Host I/O failures are
 * {@link IOException}s: the device reports them to the guest as VIRTIO_BLK_S_IOERR.
 */
public interface BlockBackend extends AutoCloseable {
    /** Image size in bytes (a multiple of 512; a trailing partial sector is not exposed). */
    long sizeBytes();

    boolean readOnly();

    /** A short name for logs and the default serial, e.g. the image file name. */
    String id();

    /** Fills every buffer of {@code iov} from {@code offset} on, or throws. The vector may be consumed. */
    void read(long offset, IoVec iov) throws IOException;

    /** Writes every buffer of {@code iov} at {@code offset} on, or throws. The vector may be consumed. */
    void write(long offset, IoVec iov) throws IOException;

    /** Returns only once all completed writes are durable on the host (fdatasync). */
    void flush() throws IOException;

    @Override
    void close();
}
