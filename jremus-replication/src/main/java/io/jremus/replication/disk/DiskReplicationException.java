package io.jremus.replication.disk;

/**
 * A disk replication step failed. The {@link Kind} tells the caller what is still true.
 */
public final class DiskReplicationException extends Exception {
    /** What the failure means for the backup's committed disk. */
    public enum Kind {
        /**
         * The peer sent something invalid (sector out of range, bad length, wrong epoch, over
         * the memory limit). Nothing was written: the disk still holds the last committed
         * checkpoint. Drop the partial epoch and the connection.
         */
        BAD_INPUT,
        /**
         * The local disk failed while applying a commit. The image may now be between two
         * checkpoints: it must not be used for failover until it has been resynced.
         */
        DISK_FAILED
    }

    private final Kind kind;

    public DiskReplicationException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public DiskReplicationException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
