package io.jremus.replication.failover;

/**
 * What a node asks the {@link Arbiter} to let it be for one VM. The codes are stable: they are
 * on the witness wire protocol, in status output and in metrics.
 */
public enum Role {
    /**
     * Run the VM as a <em>protected</em> primary: every packet it releases has been acknowledged
     * by a backup first (output commit), so it needs no live lease to stay safe. Asked before the
     * first checkpoint a backup could take over from (start, and re-protection after a failover).
     */
    PRIMARY(1),
    /**
     * Run the VM <em>alone</em>: release output without any backup's acknowledgement. Asked by a
     * primary that lost its backup and by a backup that wants to take over. Held only while the
     * lease is renewed.
     */
    ACTIVE(2),
    /**
     * Hold nothing: a holder asking this gives its grant up (planned switchover, clean stop);
     * anyone else asking it just learns the current term and holder (a query).
     */
    STANDBY(3);

    private final int code;

    Role(int code) {
        this.code = code;
    }

    /** The stable number of this role. */
    public int code() {
        return code;
    }

    /** The role with this code; {@link IllegalArgumentException} naming the code otherwise. */
    public static Role ofCode(int code) {
        for (Role r : values()) if (r.code == code) return r;
        throw new IllegalArgumentException("unknown role code " + code);
    }
}
