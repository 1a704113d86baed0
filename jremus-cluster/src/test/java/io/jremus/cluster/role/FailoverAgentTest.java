package io.jremus.cluster.role;

import io.jremus.cluster.ManualClock;
import io.jremus.cluster.detect.HeartbeatMonitor;
import io.jremus.cluster.detect.HeartbeatSender;
import io.jremus.cluster.witness.LocalArbiter;
import io.jremus.cluster.witness.TermStore;
import io.jremus.cluster.witness.WitnessLedger;
import io.jremus.replication.failover.Arbiter;
import io.jremus.replication.failover.Grant;
import io.jremus.replication.failover.Role;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static io.jremus.cluster.role.ReplicationRole.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Primary "a" and backup "b" of one VM, each with a heartbeat sender, a monitor and a failover
 * agent, sharing one witness ledger; one hand-driven clock, stepped 1 ms at a time. Nothing sleeps.
 */
class FailoverAgentTest {
    private static final Duration LEASE = Duration.ofMillis(1000);
    private static final long MS = 1_000_000L;

    private final ManualClock clock = new ManualClock(0);
    private final WitnessLedger ledger;
    private final SwitchableArbiter arbiter;

    FailoverAgentTest() throws IOException {
        ledger = new WitnessLedger(LEASE, clock, TermStore.inMemory());
        arbiter = new SwitchableArbiter(new LocalArbiter(ledger));
    }

    /** An arbiter some nodes cannot reach. */
    static final class SwitchableArbiter implements Arbiter {
        final Arbiter inner;
        final java.util.Set<String> cutOff = new java.util.HashSet<>();
        int requests;

        SwitchableArbiter(Arbiter inner) {
            this.inner = inner;
        }

        @Override
        public Grant request(String vmId, String node, Role wanted, long knownTerm, Duration timeout) {
            requests++;
            if (cutOff.contains(node)) return Grant.unreachable(vmId, Duration.ofMillis(100), "cut off");
            return inner.request(vmId, node, wanted, knownTerm, timeout);
        }

        @Override
        public Duration lease() {
            return inner.lease();
        }
    }

    record Done(long atMs, RoleAction action, ReplicationRole role, long term, String why) {
    }

    final class Node {
        final String name;
        final FailoverAgent agent;
        final HeartbeatSender sender;
        final List<Done> done = new ArrayList<>();
        boolean alive = true;
        long lastReceivedMs = -1;
        Node peer;

        Node(String name, ReplicationRole initial, long term) {
            this.name = name;
            this.agent = new FailoverAgent("vm1", name, initial, term, arbiter, new HeartbeatMonitor(clock.nanoTime()), clock,
                    Duration.ofMillis(50), (a, r, t, why) -> done.add(new Done(clock.nanoTime() / MS, a, r, t, why)));
            this.sender = new HeartbeatSender(HeartbeatSender.DEFAULT_INTERVAL, (seq, now) -> {
                if (link && peer.alive) {
                    peer.agent.onHeartbeat(seq);
                    peer.lastReceivedMs = now / MS;
                }
            });
        }

        void step() {
            if (!alive) return;
            sender.doWork(clock.nanoTime());
            agent.doWork();
            if (agent.role() == TAKING_OVER) agent.onTakeoverDone(); // restoring takes no time here
        }

        List<RoleAction> actions() {
            return done.stream().map(Done::action).toList();
        }

        Done first(RoleAction a) {
            return done.stream().filter(d -> d.action() == a).findFirst().orElse(null);
        }
    }

    boolean link = true;

    /** The primary took PRIMARY (term 1) at t=0 and seeded the backup for 5 s; both run protected. */
    private Node[] protectedPair() {
        assertThat(ledger.decide("vm1", "a", Role.PRIMARY, 0).term()).isEqualTo(1);
        clock.advanceMillis(5000);
        Node a = new Node("a", PROTECTED, 1);
        Node b = new Node("b", BACKUP_WAITING, 1);
        a.peer = b;
        b.peer = a;
        run(a, b, 1000);
        assertThat(a.done).isEmpty();
        assertThat(b.done).isEmpty();
        return new Node[]{a, b};
    }

    private void run(Node a, Node b, long ms) {
        for (long i = 0; i < ms; i++) {
            clock.advanceMillis(1);
            a.step();
            b.step();
        }
    }

    @Test
    void backupShouldTakeOverAfterThreeMissedHeartbeatsWhenGranted() {
        Node[] p = protectedPair();
        Node a = p[0], b = p[1];
        long lastBeat = b.lastReceivedMs;
        a.alive = false; // kill -9 the primary host
        run(a, b, 299 - (clock.nanoTime() / MS - lastBeat));
        assertThat(b.done).as("two missed heartbeats are not enough").isEmpty();
        assertThat(b.agent.role()).isEqualTo(BACKUP_WAITING);
        run(a, b, 1);
        assertThat(b.actions()).containsExactly(RoleAction.STOP_ACKING_AND_ASK, RoleAction.TAKE_OVER, RoleAction.GO_ALONE);
        assertThat(b.first(RoleAction.TAKE_OVER).atMs()).isEqualTo(lastBeat + 300);
        assertThat(b.agent.role()).isEqualTo(ACTIVE_UNPROTECTED);
        assertThat(b.agent.term()).isEqualTo(2);
        // it keeps its lease by renewing
        run(a, b, 10_000);
        assertThat(b.agent.role()).isEqualTo(ACTIVE_UNPROTECTED);
        assertThat(ledger.snapshot().get("vm1").holder()).isEqualTo("b");
    }

    @Test
    void backupShouldNotTakeOverWhileTheArbiterCannotBeReached() {
        Node[] p = protectedPair();
        Node a = p[0], b = p[1];
        a.alive = false;
        arbiter.cutOff.add("b");
        run(a, b, 10_000);
        assertThat(b.actions()).containsOnly(RoleAction.STOP_ACKING_AND_ASK);
        assertThat(b.agent.role()).isEqualTo(BACKUP_ARBITRATING);
        assertThat(arbiter.requests).as("asks again about every 100 ms").isBetween(90, 110);
        arbiter.cutOff.clear();
        run(a, b, 200);
        assertThat(b.agent.role()).isEqualTo(ACTIVE_UNPROTECTED);
    }

    @Test
    void backupShouldWaitOutALiveLeaseBeforeTakingOver() {
        Node[] p = protectedPair();
        Node a = p[0], b = p[1];
        ledger.decide("vm1", "a", Role.PRIMARY, 1); // the primary renewed just now (same term)
        long renewedAt = clock.nanoTime() / MS;
        a.alive = false;
        run(a, b, 2000);
        Done takeover = b.first(RoleAction.TAKE_OVER);
        assertThat(takeover).isNotNull();
        assertThat(takeover.atMs()).isBetween(renewedAt + 1000, renewedAt + 1001);
        assertThat(takeover.why()).contains("taken over from a");
    }

    @Test
    void backupShouldStopForGoodWhenThePrimaryWentAloneFirst() {
        Node[] p = protectedPair();
        Node a = p[0], b = p[1];
        ledger.decide("vm1", "a", Role.ACTIVE, 1); // a went alone (term 2) and then died
        a.alive = false;
        run(a, b, 5000);
        assertThat(b.actions()).containsExactly(RoleAction.STOP_ACKING_AND_ASK, RoleAction.STOP);
        assertThat(b.agent.role()).isEqualTo(STOPPED_REFUSED);
    }

    @Test
    void primaryShouldContinueUnprotectedWhenGrantedAndHoldOutputWhenItsLeaseLapses() {
        Node[] p = protectedPair();
        Node a = p[0], b = p[1];
        b.alive = false; // the backup host dies
        run(a, b, 400);
        assertThat(a.actions()).containsExactly(RoleAction.GO_ALONE);
        assertThat(a.agent.role()).isEqualTo(ACTIVE_UNPROTECTED);
        assertThat(a.agent.term()).isEqualTo(2);
        run(a, b, 10_000);
        assertThat(a.agent.role()).as("renews every lease/3").isEqualTo(ACTIVE_UNPROTECTED);
        // now the witness becomes unreachable for a: it must stop releasing output before the
        // witness could hand the VM to anyone else
        arbiter.cutOff.add("a");
        long witnessExpiryMs = ledger.snapshot().get("vm1").leaseExpiryNanos() / MS;
        run(a, b, 2000);
        Done hold = a.first(RoleAction.HOLD_OUTPUT_AND_ASK);
        assertThat(hold).isNotNull();
        assertThat(hold.atMs()).isLessThan(witnessExpiryMs);
        assertThat(a.agent.role()).isEqualTo(ARBITRATING);
        arbiter.cutOff.clear();
        run(a, b, 200);
        assertThat(a.agent.role()).isEqualTo(ACTIVE_UNPROTECTED);
        assertThat(a.agent.term()).as("the holder keeps its term").isEqualTo(2);
    }

    @Test
    void primaryShouldStopWhenRefused() {
        Node[] p = protectedPair();
        Node a = p[0], b = p[1];
        arbiter.cutOff.add("a"); // a cannot reach the witness...
        link = false;             // ...nor b: b takes over
        run(a, b, 2000);
        assertThat(b.agent.role()).isEqualTo(ACTIVE_UNPROTECTED);
        assertThat(a.agent.role()).isEqualTo(ARBITRATING);
        assertThat(a.actions()).doesNotContain(RoleAction.GO_ALONE);
        arbiter.cutOff.clear(); // a reaches the witness again: refused, it stops
        run(a, b, 200);
        assertThat(a.actions()).containsExactly(RoleAction.STOP);
        assertThat(a.agent.role()).isEqualTo(STOPPED_REFUSED);
        run(a, b, 5000);
        assertThat(a.actions()).containsExactly(RoleAction.STOP);
    }

    /**
     * The replication link is cut with both hosts alive, at random phases, with random witness
     * reachability hiccups and random lease states: at every millisecond at most one node acts
     * alone, and in the end exactly one does and the other has stopped.
     */
    @Test
    void twoSidesRacingShouldEndWithExactlyOneWinner() throws IOException {
        int primaryWon = 0, backupWon = 0;
        for (int seed = 0; seed < 300; seed++) {
            SplittableRandom r = new SplittableRandom(seed); // java.util.Random's first draws are alike for nearby seeds
            FailoverAgentTest t = new FailoverAgentTest();
            Node[] p = t.protectedPair();
            Node a = p[0], b = p[1];
            if (r.nextBoolean()) t.ledger.decide("vm1", "a", Role.PRIMARY, 1); // a live lease, or not
            t.run(a, b, r.nextInt(100));
            t.link = false;
            int aWins = 0, bWins = 0;
            for (int ms = 0; ms < 4000; ms++) {
                t.clock.advanceMillis(1);
                if (ms < 1500 && r.nextInt(50) == 0) t.arbiter.cutOff.add(r.nextBoolean() ? "a" : "b");
                if (r.nextInt(20) == 0) t.arbiter.cutOff.clear();
                if (ms == 1500) t.arbiter.cutOff.clear();
                if (r.nextBoolean()) {
                    a.step();
                    b.step();
                } else {
                    b.step();
                    a.step();
                }
                boolean aAlone = a.agent.role().actsAlone(), bAlone = b.agent.role().actsAlone();
                assertThat(aAlone && bAlone).as("seed %d at %d ms: both act alone", seed, ms).isFalse();
            }
            if (a.agent.role().actsAlone()) aWins++;
            if (b.agent.role().actsAlone()) bWins++;
            assertThat(aWins + bWins).as("seed %d: a %s, b %s", seed, a.agent.role(), b.agent.role()).isEqualTo(1);
            Node loser = aWins == 1 ? b : a;
            assertThat(loser.agent.role()).as("seed %d", seed).isEqualTo(STOPPED_REFUSED);
            assertThat(loser.actions()).doesNotContain(RoleAction.GO_ALONE, RoleAction.TAKE_OVER);
            primaryWon += aWins;
            backupWon += bWins;
        }
        assertThat(primaryWon).as("the primary wins some races").isPositive();
        assertThat(backupWon).as("the backup wins some races").isPositive();
    }
}
