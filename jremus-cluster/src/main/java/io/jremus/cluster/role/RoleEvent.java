package io.jremus.cluster.role;

/** What happens to a node, fed to {@link RoleMachine#next}. Codes are stable (logs, metrics). */
public enum RoleEvent {
    /** The first checkpoint is committed (backup) or acknowledged (primary). */
    SEED_COMPLETE(1),
    /** The peer is suspected: heartbeats missed for the timeout, or (primary) an ack is overdue. */
    PEER_LOST(2),
    /** Heartbeats from the peer arrive again. */
    PEER_BACK(3),
    /** The arbiter granted what was asked (a new term, or a renewal). */
    GRANTED(4),
    /** The arbiter refused for now (another node's lease is live); ask again later. */
    BUSY(5),
    /** The arbiter refused for good (stale term, or another node won). */
    REFUSED(6),
    /** The arbiter did not answer in time. */
    UNREACHABLE(7),
    /** The wait after BUSY/UNREACHABLE is over: ask again. */
    RETRY_DUE(8),
    /** A third of the lease has passed since the last granted request: renew. */
    RENEW_DUE(9),
    /** The lease ended on this node's clock without a renewal. */
    LEASE_EXPIRED(10),
    /** The backup has restored its committed image and is ready to run it. */
    TAKEOVER_DONE(11);

    private final int code;

    RoleEvent(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
