package io.jremus.cluster.pacemaker;

import io.jremus.replication.failover.Arbiter;
import io.jremus.replication.failover.Grant;
import io.jremus.replication.failover.Role;

import java.time.Duration;

/**
 * The {@link Arbiter} of a node run by Pacemaker: jremus never decides alone, it waits for what
 * Pacemaker told this node through the resource agent ({@code ocf:jremus:vm}).
 *
 * <ul>
 *   <li>A backup that lost its primary asks {@code ACTIVE}: {@code BUSY} until Pacemaker
 *       <b>promotes</b> this instance, which it does only after the old primary's node was fenced
 *       or the old primary was demoted (it handed over its last epoch).</li>
 *   <li>A promoted primary that lost its backup asks {@code ACTIVE}: {@code BUSY} (output stays
 *       held) until Pacemaker reports that the backup's instance is <b>stopped</b> (a post-stop
 *       notification, sent after the backup's node was fenced or its instance recovered), since only
 *       then can that backup no longer be promoted with older state. If this node is itself cut
 *       off, that notification never comes: the majority fences this node while it holds output.</li>
 *   <li>{@code PRIMARY} is granted only to a promoted instance; {@code demote} and {@code stop}
 *       turn every later request into {@code REFUSED}.</li>
 * </ul>
 * Terms are local counters here (Pacemaker's transitions order the roles, not a shared term);
 * the lease is long, because a grant lasts until Pacemaker says otherwise. Thread-safe.
 */
public final class PacemakerArbiter implements Arbiter {
    private static final Duration RETRY = Duration.ofMillis(100);
    private static final Duration LEASE = Duration.ofHours(1);

    private boolean promoted;
    private boolean demoting;
    private boolean stopping;
    private String backupNode;
    private boolean backupStopped;
    private long term = 1;
    private long waitingSinceNanos = -1;

    /** Pacemaker promoted this instance. */
    public synchronized void promote() {
        promoted = true;
        demoting = false;
        term++;
    }

    /** Pacemaker demotes this instance: no further grant of PRIMARY or ACTIVE until promoted again. */
    public synchronized void demote() {
        promoted = false;
        demoting = true;
        backupNode = null;
    }

    /** The demotion finished: this node is a standby again, waiting to be promoted some day. */
    public synchronized void standby() {
        promoted = false;
        demoting = false;
        backupNode = null;
    }

    /** The instance is being stopped for good. */
    public synchronized void stop() {
        stopping = true;
    }

    /** This primary connected to a backup on {@code node}: losing it now needs Pacemaker's word. */
    public synchronized void backupConnected(String node) {
        backupNode = node;
        backupStopped = false;
        waitingSinceNanos = -1;
    }

    /** Pacemaker reports that the instance on {@code node} is stopped (after fencing, or recovered). */
    public synchronized void peerStopped(String node) {
        if (node.equals(backupNode)) backupStopped = true;
    }

    public synchronized boolean promoted() {
        return promoted;
    }

    /** The node of the backup this primary is waiting for word about, if any. */
    public synchronized String awaitedBackup() {
        return waitingSinceNanos >= 0 && backupNode != null && !backupStopped ? backupNode : null;
    }

    /**
     * How long this primary has held its output waiting for word about its lost backup (0 when
     * not waiting). The resource agent escalates a long wait (a replication link that failed
     * while both nodes stay in the cluster) by marking that backup's instance failed, so that
     * Pacemaker recovers it and then reports it stopped.
     */
    public synchronized long awaitedMillis() {
        return awaitedBackup() == null ? 0 : (System.nanoTime() - waitingSinceNanos) / 1_000_000;
    }

    @Override
    public synchronized Grant request(String vmId, String node, Role wanted, long knownTerm, Duration timeout) {
        if (wanted == Role.STANDBY) return grant(vmId, node, Role.STANDBY, "standby is always allowed");
        if (stopping) return refuse(vmId, "the instance is being stopped by Pacemaker");
        if (!promoted) {
            if (demoting) return refuse(vmId, "Pacemaker demoted this instance");
            return new Grant(Grant.Outcome.BUSY, vmId, term, null, Role.STANDBY, Duration.ZERO, RETRY,
                    "waiting for Pacemaker to promote this instance");
        }
        if (wanted == Role.PRIMARY) return grant(vmId, node, Role.PRIMARY, "promoted by Pacemaker");
        if (backupNode == null || backupStopped) {
            String why = backupNode == null ? "promoted by Pacemaker" : "Pacemaker reports the backup on " + backupNode + " stopped";
            return grant(vmId, node, Role.ACTIVE, why);
        }
        if (waitingSinceNanos < 0) waitingSinceNanos = System.nanoTime();
        return new Grant(Grant.Outcome.BUSY, vmId, term, node, Role.PRIMARY, Duration.ZERO, RETRY,
                "waiting for Pacemaker to report the backup on " + backupNode + " stopped (fenced or recovered)");
    }

    private Grant grant(String vmId, String node, Role role, String why) {
        return new Grant(Grant.Outcome.GRANTED, vmId, term, node, role, LEASE, Duration.ZERO, why);
    }

    private Grant refuse(String vmId, String why) {
        return new Grant(Grant.Outcome.REFUSED, vmId, term, null, Role.STANDBY, Duration.ZERO, Duration.ZERO, why);
    }

    @Override
    public Duration lease() {
        return LEASE;
    }
}
