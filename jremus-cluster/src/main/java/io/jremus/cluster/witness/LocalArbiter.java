package io.jremus.cluster.witness;

import io.jremus.replication.failover.Arbiter;
import io.jremus.replication.failover.Grant;
import io.jremus.replication.failover.Role;

import java.time.Duration;

/**
 * An {@link Arbiter} in the same process, deciding with a {@link WitnessLedger} directly: for
 * tests (with a hand-driven clock) and for embedding a witness where no network is wanted.
 */
public final class LocalArbiter implements Arbiter {
    private final WitnessLedger ledger;

    public LocalArbiter(WitnessLedger ledger) {
        this.ledger = ledger;
    }

    @Override
    public Grant request(String vmId, String node, Role wanted, long knownTerm, Duration timeout) {
        return ledger.decide(vmId, node, wanted, knownTerm);
    }

    @Override
    public Duration lease() {
        return ledger.lease();
    }
}
