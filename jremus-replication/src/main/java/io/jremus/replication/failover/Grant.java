package io.jremus.replication.failover;

import java.time.Duration;
import java.util.Objects;

/**
 * The arbiter's answer to one {@link Arbiter#request request}. Only {@link Outcome#GRANTED}
 * allows a node to act; every other outcome means "do not act alone".
 *
 * @param outcome    what was decided
 * @param vmId       the VM asked about
 * @param term       the VM's current term after the request (the granted term when granted;
 *                   otherwise the term the arbiter holds, 0 when unknown, e.g. unreachable)
 * @param holder     the node holding the VM after the request, or null when none (or unknown)
 * @param role       the role the holder holds ({@link Role#STANDBY} when there is no holder)
 * @param lease      how long the grant lasts from the moment the request was <em>sent</em>,
 *                   without a renewal (see {@link #validUntil}); zero when not granted
 * @param retryAfter when {@link Outcome#BUSY} or {@link Outcome#UNREACHABLE}: when asking again
 *                   may give another answer; zero otherwise
 * @param reason     one human line: why, with the values
 */
public record Grant(Outcome outcome, String vmId, long term, String holder, Role role, Duration lease,
                    Duration retryAfter, String reason) {

    /** The kinds of answer, with stable codes (on the wire and in status output). */
    public enum Outcome {
        /** The request is granted: the caller holds {@code term} in the role it asked for. */
        GRANTED(1),
        /** Refused for now: another node holds a live lease, and the caller's term is current. Ask again after {@code retryAfter}. */
        BUSY(2),
        /** Refused for good: the caller's term is stale (the VM moved on without it) or another node won. Stop. */
        REFUSED(3),
        /** No answer within the timeout (network, witness down). Nothing is known; do not act alone. */
        UNREACHABLE(4);

        private final int code;

        Outcome(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }

        public static Outcome ofCode(int code) {
            for (Outcome o : values()) if (o.code == code) return o;
            throw new IllegalArgumentException("unknown outcome code " + code);
        }
    }

    /**
     * How much of a lease a holder gives up to cover clock-rate differences between it and the
     * arbiter: it treats a lease of L as {@code L - L/100} on its own clock (1 %; monotonic clocks
     * of one machine or of NTP-disciplined machines drift far less).
     */
    public static final int DRIFT_MARGIN_DIVISOR = 100;

    public Grant {
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(vmId, "vmId");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(lease, "lease");
        Objects.requireNonNull(retryAfter, "retryAfter");
        Objects.requireNonNull(reason, "reason");
        if (term < 0) throw new IllegalArgumentException("negative term " + term);
    }

    public boolean granted() {
        return outcome == Outcome.GRANTED;
    }

    /**
     * The last instant (on the holder's own monotonic clock) at which the holder may still act on
     * this grant: {@code sentNanos + lease - lease/100}, where {@code sentNanos} is when the
     * holder <em>sent</em> the request. The arbiter starts the lease when it <em>receives</em> the
     * request, which is later, so the holder's view of the lease always ends first.
     * {@link Long#MIN_VALUE} when not granted.
     */
    public long validUntil(long sentNanos) {
        if (!granted()) return Long.MIN_VALUE;
        long l = lease.toNanos();
        return sentNanos + l - l / DRIFT_MARGIN_DIVISOR;
    }

    public static Grant unreachable(String vmId, Duration retryAfter, String reason) {
        return new Grant(Outcome.UNREACHABLE, vmId, 0, null, Role.STANDBY, Duration.ZERO, retryAfter, reason);
    }

    @Override
    public String toString() {
        return outcome + " vm=" + vmId + " term=" + term + " holder=" + (holder == null ? "-" : holder) + " role=" + role
                + (granted() ? " lease=" + lease.toMillis() + "ms" : "")
                + (retryAfter.isZero() ? "" : " retryAfter=" + retryAfter.toMillis() + "ms")
                + " (" + reason + ")";
    }
}
