package io.jremus.vmm.devices.virtio.blk;

/**
 * Hears of every write and flush a virtio-blk device completes, for disk replication: the Remus
 * layer streams each write to the backup within the current epoch, and the backup applies them
 * only when the epoch commits (architecture invariant 3).
 *
 * <p>Called on the device's request thread after the local image has the data (after the
 * fdatasync, for a flush) and before the guest is told the request succeeded, so nothing the
 * guest sees as done can be missing from the stream. Must not block for long and must not
 * throw: a throw marks the device broken. The default methods do nothing.
 *
 * <p>{@link #beforeWrite} is the exception: it runs before the data reaches the local image
 * (for an activity log that must be durable first), and a throw from it fails that request
 * with S_IOERR without writing anything.
 */
public interface BlockWriteListener {
    /** Listens to nothing. */
    BlockWriteListener NONE = new BlockWriteListener() {
    };

    /**
     * {@code length} bytes (a multiple of 512) are about to be written at {@code sector}; the
     * image is not touched until this returns. Throw (an unchecked exception) to fail the request.
     */
    default void beforeWrite(long sector, long length) {
    }

    /**
     * {@code length} bytes (a multiple of 512) were written at {@code sector}. {@code data} is a
     * view of the guest's buffers, valid only during the call: copy what you keep.
     */
    default void written(long sector, long length, BlockData data) {
    }

    /** A flush completed: every write heard so far is durable on this host. */
    default void flushed() {
    }
}
