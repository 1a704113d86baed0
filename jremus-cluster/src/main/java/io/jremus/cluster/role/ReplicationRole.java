package io.jremus.cluster.role;

/**
 * Where one node stands for one VM, as far as failure handling goes. Codes are stable: they go
 * into status output and metrics. Primary-side states come first, backup-side states from 10;
 * a backup that took over ends in the primary-side {@link #ACTIVE_UNPROTECTED}.
 */
public enum ReplicationRole {
    /** Primary copying its first image to a backup; the backup cannot take over yet. */
    SEEDING(1),
    /** Primary with a backup in sync: output is released only after the backup acknowledges it. */
    PROTECTED(2),
    /** Primary that lost its backup (heartbeats or acks): output held, asking the arbiter to go alone. */
    ARBITRATING(3),
    /** Running alone under an ACTIVE lease: output released without acknowledgements; renewing. */
    ACTIVE_UNPROTECTED(4),
    /** Arbitration refused for good: this node stopped the VM (or discarded its image) and never releases anything. */
    STOPPED_REFUSED(5),
    /** Backup receiving its first image; it has nothing to take over with. */
    BACKUP_SEEDING(10),
    /** Backup holding a committed image, acknowledging checkpoints; the primary is alive. */
    BACKUP_WAITING(11),
    /** Backup that suspects the primary: stopped acknowledging, asking the arbiter to take over. */
    BACKUP_ARBITRATING(12),
    /** Backup granted the VM: restoring the committed image, opening its TAP, announcing the MAC. */
    TAKING_OVER(13);

    private final int code;

    ReplicationRole(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static ReplicationRole ofCode(int code) {
        for (ReplicationRole r : values()) if (r.code == code) return r;
        throw new IllegalArgumentException("unknown replication role code " + code);
    }

    /** Whether a node in this state may run the VM and release output without a backup's acknowledgement. */
    public boolean actsAlone() {
        return this == ACTIVE_UNPROTECTED;
    }
}
