package io.jremus.cluster.witness;

import io.jremus.cluster.NanoClock;
import io.jremus.replication.failover.Arbiter;
import io.jremus.replication.failover.Grant;
import io.jremus.replication.failover.Grant.Outcome;
import io.jremus.replication.failover.Role;
import io.jremus.cluster.witness.TermStore.Stored;

import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The witness's decisions: per VM the term, holder, role and lease expiry, and the rules of
 * {@link Arbiter} applied one request at a time (the methods are synchronized). Time comes from
 * the injected clock; durable state goes through the {@link TermStore} before an answer that
 * changed it is returned. No I/O of its own besides the store: the server and an in-process
 * {@link LocalArbiter} both sit on it.
 */
public final class WitnessLedger {
    /** One VM as the ledger sees it now. {@code leaseExpiryNanos} is on the ledger's clock. */
    public record Entry(long term, String holder, Role role, long leaseExpiryNanos) {
    }

    private final Duration lease;
    private final long leaseNanos;
    private final NanoClock clock;
    private final TermStore store;
    private final Map<String, Entry> vms = new HashMap<>();

    /**
     * Loads the stored state. Every VM that has a holder gets a lease that runs one full lease
     * duration from now: the holder may have been granted a lease just before the restart.
     */
    public WitnessLedger(Duration lease, NanoClock clock, TermStore store) throws IOException {
        if (lease.isNegative() || lease.isZero()) throw new IllegalArgumentException("lease must be positive, got " + lease);
        this.lease = lease;
        this.leaseNanos = lease.toNanos();
        this.clock = Objects.requireNonNull(clock);
        this.store = Objects.requireNonNull(store);
        long now = clock.nanoTime();
        store.load().forEach((vm, s) -> vms.put(vm, new Entry(s.term(), s.holder(), s.role(), s.holder() == null ? now : now + leaseNanos)));
    }

    public Duration lease() {
        return lease;
    }

    /** Applies the rules of {@link Arbiter} to one request. */
    public synchronized Grant decide(String vmId, String node, Role wanted, long knownTerm) {
        WitnessProtocol.checkId("vm id", vmId);
        WitnessProtocol.checkId("node", node);
        long now = clock.nanoTime();
        Entry e = vms.getOrDefault(vmId, new Entry(0, null, Role.STANDBY, now));
        boolean held = e.holder() != null;
        boolean isHolder = held && e.holder().equals(node);

        if (knownTerm > e.term()) {
            return answer(Outcome.REFUSED, vmId, e, Duration.ZERO, "known term " + knownTerm + " is ahead of the witness's term "
                    + e.term() + " (witness state lost or replaced?); not guessing");
        }
        if (wanted == Role.STANDBY) {
            if (!isHolder) return answer(Outcome.GRANTED, vmId, e, Duration.ZERO, held ? "held by " + e.holder() : "not held");
            return commit(vmId, e, new Entry(e.term(), null, Role.STANDBY, now), Outcome.GRANTED, "released by " + node);
        }
        if (isHolder) {
            if (wanted == e.role()) {
                return commit(vmId, e, new Entry(e.term(), node, wanted, now + leaseNanos), Outcome.GRANTED, "renewed");
            }
            return commit(vmId, e, new Entry(e.term() + 1, node, wanted, now + leaseNanos), Outcome.GRANTED,
                    "role " + e.role() + " -> " + wanted + ": new term");
        }
        if (knownTerm < e.term()) {
            return answer(Outcome.REFUSED, vmId, e, Duration.ZERO, "known term " + knownTerm + " is stale: the VM is at term " + e.term()
                    + (held ? " held by " + e.holder() + " as " + e.role() : ""));
        }
        if (held && now - e.leaseExpiryNanos() < 0) {
            Duration left = Duration.ofNanos(e.leaseExpiryNanos() - now);
            return answer(Outcome.BUSY, vmId, e, left, e.holder() + " holds term " + e.term() + " as " + e.role()
                    + "; its lease has " + left.toMillis() + " ms left");
        }
        return commit(vmId, e, new Entry(e.term() + 1, node, wanted, now + leaseNanos), Outcome.GRANTED,
                held ? "taken over from " + e.holder() + " (lease expired " + Duration.ofNanos(now - e.leaseExpiryNanos()).toMillis() + " ms ago)"
                        : "acquired");
    }

    /** A copy of the current state (status output, tests). */
    public synchronized Map<String, Entry> snapshot() {
        return new TreeMap<>(vms);
    }

    private Grant commit(String vmId, Entry old, Entry next, Outcome outcome, String reason) {
        boolean durableChange = old.term() != next.term() || !Objects.equals(old.holder(), next.holder()) || old.role() != next.role();
        vms.put(vmId, next);
        if (durableChange) {
            try {
                store.save(durable());
            } catch (IOException | RuntimeException ex) {
                vms.put(vmId, old);
                // Nothing was decided: the caller must not act, and may ask again.
                return new Grant(Outcome.UNREACHABLE, vmId, old.term(), old.holder(), old.role(), Duration.ZERO,
                        Duration.ofMillis(100), "witness cannot store its state: " + ex.getMessage());
            }
        }
        return answer(outcome, vmId, next, Duration.ZERO, reason);
    }

    private Map<String, Stored> durable() {
        Map<String, Stored> m = new TreeMap<>();
        vms.forEach((vm, e) -> m.put(vm, new Stored(e.term(), e.holder(), e.role())));
        return m;
    }

    private Grant answer(Outcome o, String vmId, Entry e, Duration retryAfter, String reason) {
        Duration l = o == Outcome.GRANTED && e.holder() != null ? lease : Duration.ZERO;
        return new Grant(o, vmId, e.term(), e.holder(), e.role(), l, retryAfter, reason);
    }
}
