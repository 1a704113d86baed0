package io.jremus.cluster.role;

/** What the node must do after a transition (the driver carries it out). Codes are stable. */
public enum RoleAction {
    /** Nothing. */
    NONE(0),
    /** Ask the arbiter for ACTIVE with the current term (first ask, retry or renewal). */
    ASK_ACTIVE(1),
    /** Backup: stop acknowledging checkpoints, <em>then</em> ask the arbiter for ACTIVE. */
    STOP_ACKING_AND_ASK(2),
    /** Backup: the primary is back before anything was granted: acknowledge checkpoints again. */
    RESUME_ACKING(3),
    /** Wait for the retry delay the arbiter gave, then {@link RoleEvent#RETRY_DUE}. */
    WAIT_RETRY(4),
    /** Run the VM and release output (held output first) without waiting for acknowledgements. */
    GO_ALONE(5),
    /** Backup: restore the committed image into KVM, discard the uncommitted epoch, open the TAP, announce the MAC. */
    TAKE_OVER(6),
    /** The lease is gone: hold all output again (pause the VM if buffers fill) and ask the arbiter. */
    HOLD_OUTPUT_AND_ASK(7),
    /** Refused for good: stop the VM here (discard held output, or the stale image) and never release anything. */
    STOP(8);

    private final int code;

    RoleAction(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
