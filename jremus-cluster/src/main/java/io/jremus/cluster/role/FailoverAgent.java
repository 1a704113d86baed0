package io.jremus.cluster.role;

import io.jremus.cluster.NanoClock;
import io.jremus.cluster.detect.HeartbeatMonitor;
import io.jremus.replication.failover.Arbiter;
import io.jremus.replication.failover.Grant;
import io.jremus.replication.failover.Role;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Objects;

/**
 * Drives {@link RoleMachine} for one VM on one node: a duty-cycle agent whose {@link #doWork}
 * reads the injected clock, turns the heartbeat monitor's verdict and the lease timers into
 * events, asks the {@link Arbiter} when the machine says so, and hands every action to the
 * {@link Effects} (which stop acking, release output, restore the VM, stop it...).
 *
 * <p>Arbiter requests are made synchronously from {@code doWork} and may block up to the request
 * timeout: run this agent on its own thread, not on the checkpoint thread. All methods are meant
 * to be called from that one thread (other threads enqueue, Aeron-proxy style).
 */
public final class FailoverAgent {
    private static final Logger log = LoggerFactory.getLogger(FailoverAgent.class);

    /** The node-side effects of actions; each is called on the agent's thread. */
    public interface Effects {
        /**
         * Carries out {@code action} (never {@link RoleAction#NONE}, {@link RoleAction#ASK_ACTIVE}
         * or {@link RoleAction#WAIT_RETRY}: the agent does those itself). {@code term} is the term
         * the node holds or its image belongs to after the transition.
         */
        void perform(RoleAction action, ReplicationRole now, long term, String why);
    }

    private final String vmId;
    private final String node;
    private final Arbiter arbiter;
    private final HeartbeatMonitor monitor;
    private final NanoClock clock;
    private final Effects effects;
    private final Duration requestTimeout;

    private ReplicationRole role;
    private long term;
    private boolean peerSuspected;
    private long retryAt = Long.MAX_VALUE;
    private long renewAt = Long.MAX_VALUE;
    private long validUntil = Long.MIN_VALUE;
    private Grant lastAnswer;

    /**
     * @param initial  {@link ReplicationRole#SEEDING}/{@link ReplicationRole#PROTECTED} on a
     *                 primary, {@link ReplicationRole#BACKUP_SEEDING}/{@link ReplicationRole#BACKUP_WAITING} on a backup
     * @param term     the PRIMARY term the primary holds, or the term the backup's image belongs to
     */
    public FailoverAgent(String vmId, String node, ReplicationRole initial, long term, Arbiter arbiter, HeartbeatMonitor monitor,
                         NanoClock clock, Duration requestTimeout, Effects effects) {
        this.vmId = Objects.requireNonNull(vmId);
        this.node = Objects.requireNonNull(node);
        this.role = Objects.requireNonNull(initial);
        this.term = term;
        this.arbiter = Objects.requireNonNull(arbiter);
        this.monitor = Objects.requireNonNull(monitor);
        this.clock = Objects.requireNonNull(clock);
        this.requestTimeout = Objects.requireNonNull(requestTimeout);
        this.effects = Objects.requireNonNull(effects);
    }

    public ReplicationRole role() {
        return role;
    }

    public long term() {
        return term;
    }

    /** The last answer from the arbiter, or null. */
    public Grant lastAnswer() {
        return lastAnswer;
    }

    /** A heartbeat from the peer arrived (now, by the injected clock). */
    public void onHeartbeat(long seq) {
        monitor.onHeartbeat(seq, clock.nanoTime());
    }

    /** Primary: the backup did not acknowledge a checkpoint in time. */
    public void onAckOverdue() {
        fire(RoleEvent.PEER_LOST);
    }

    /** The first checkpoint is committed (backup) or acknowledged (primary); {@code imageTerm} is its term tag. */
    public void onSeedComplete(long imageTerm) {
        if (role == ReplicationRole.SEEDING || role == ReplicationRole.BACKUP_SEEDING) term = imageTerm;
        fire(RoleEvent.SEED_COMPLETE);
    }

    /** A backup finished restoring its image. */
    public void onTakeoverDone() {
        fire(RoleEvent.TAKEOVER_DONE);
    }

    /** One duty cycle: returns how many events it handled (0 when idle). */
    public int doWork() {
        int work = 0;
        long now = clock.nanoTime();
        boolean suspected = monitor.check(now).suspected();
        if (suspected != peerSuspected) {
            peerSuspected = suspected;
            work += fire(suspected ? RoleEvent.PEER_LOST : RoleEvent.PEER_BACK);
        }
        if (holdsLease() && now - validUntil >= 0) {
            validUntil = Long.MIN_VALUE;
            renewAt = Long.MAX_VALUE;
            work += fire(RoleEvent.LEASE_EXPIRED);
        }
        if (retryAt != Long.MAX_VALUE && now - retryAt >= 0) {
            retryAt = Long.MAX_VALUE;
            work += fire(RoleEvent.RETRY_DUE);
        }
        if (renewAt != Long.MAX_VALUE && now - renewAt >= 0) {
            renewAt = Long.MAX_VALUE;
            work += fire(RoleEvent.RENEW_DUE);
        }
        return work;
    }

    private boolean holdsLease() {
        return validUntil != Long.MIN_VALUE && (role == ReplicationRole.ACTIVE_UNPROTECTED || role == ReplicationRole.TAKING_OVER);
    }

    /** Applies one event and everything it leads to (an ask leads to the answer's event). */
    private int fire(RoleEvent first) {
        int n = 0;
        RoleEvent e = first;
        while (e != null) {
            n++;
            RoleMachine.Transition t = RoleMachine.next(role, e);
            ReplicationRole from = role;
            role = t.to();
            if (from != role) {
                log.info("{} {}: {} on {} -> {} ({})", vmId, node, from, e, role, t.action());
            } else if (t.action() != RoleAction.NONE) {
                log.debug("{} {}: {} on {}: {}", vmId, node, from, e, t.action());
            }
            e = act(t.action());
        }
        return n;
    }

    private RoleEvent act(RoleAction a) {
        switch (a) {
            case NONE -> {
                return null;
            }
            case WAIT_RETRY -> {
                Duration d = lastAnswer != null && !lastAnswer.retryAfter().isZero() ? lastAnswer.retryAfter() : Duration.ofMillis(100);
                retryAt = clock.nanoTime() + d.toNanos();
                return null;
            }
            case ASK_ACTIVE -> {
                return ask();
            }
            case STOP_ACKING_AND_ASK, HOLD_OUTPUT_AND_ASK -> {
                effects.perform(a, role, term, "peer or lease lost");
                return ask();
            }
            case STOP -> {
                retryAt = renewAt = Long.MAX_VALUE;
                validUntil = Long.MIN_VALUE;
                effects.perform(a, role, term, lastAnswer == null ? "refused" : lastAnswer.reason());
                return null;
            }
            default -> {
                effects.perform(a, role, term, lastAnswer == null ? "" : lastAnswer.reason());
                return null;
            }
        }
    }

    private RoleEvent ask() {
        long sent = clock.nanoTime();
        Grant g = arbiter.request(vmId, node, Role.ACTIVE, term, requestTimeout);
        lastAnswer = g;
        return switch (g.outcome()) {
            case GRANTED -> {
                term = g.term();
                validUntil = g.validUntil(sent);
                renewAt = sent + g.lease().toNanos() / 3;
                yield RoleEvent.GRANTED;
            }
            case BUSY -> RoleEvent.BUSY;
            case REFUSED -> RoleEvent.REFUSED;
            case UNREACHABLE -> RoleEvent.UNREACHABLE;
        };
    }
}
