package io.jremus.vmm.snapshot;

/**
 * A snapshot could not be taken, or a snapshot (file or in-memory state) was refused. The
 * message names what failed and the values, e.g. {@code "snap-003.diff: record VCPU_STATE #1 at
 * offset 4712: CRC32C 0x1a2b3c4d, expected 0x99aa0011"}. {@link Kind} tells the caller what to do.
 *
 * <p>When a restore throws this, no VM was started: either nothing was created yet (the snapshot
 * was refused while it was being parsed) or the half-built VM was closed before the throw.
 */
public final class SnapshotException extends Exception {
    /** What went wrong, so the caller knows whether trying again can help. */
    public enum Kind {
        /** The snapshot is malformed, corrupt or truncated: untrusted input refused. */
        CORRUPT,
        /** The snapshot is well formed but does not fit: another config, version, host or chain. */
        MISMATCH,
        /** This host's KVM refused to save or load a piece of state. */
        HOST,
        /** Reading or writing the file failed. */
        IO
    }

    private final Kind kind;

    public SnapshotException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public SnapshotException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
