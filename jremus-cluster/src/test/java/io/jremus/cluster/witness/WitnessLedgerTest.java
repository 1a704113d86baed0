package io.jremus.cluster.witness;

import io.jremus.cluster.ManualClock;
import io.jremus.replication.failover.Grant;
import io.jremus.replication.failover.Grant.Outcome;
import io.jremus.replication.failover.Role;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class WitnessLedgerTest {
    private static final Duration LEASE = Duration.ofMillis(1000);
    private final ManualClock clock = new ManualClock(5_000_000_000L);

    private WitnessLedger ledger() throws IOException {
        return new WitnessLedger(LEASE, clock, TermStore.inMemory());
    }

    @Test
    void shouldGrantTermOneToTheFirstPrimaryOfANewVm() throws IOException {
        Grant g = ledger().decide("vm1", "a", Role.PRIMARY, 0);
        assertThat(g.outcome()).isEqualTo(Outcome.GRANTED);
        assertThat(g.term()).isEqualTo(1);
        assertThat(g.holder()).isEqualTo("a");
        assertThat(g.lease()).isEqualTo(LEASE);
    }

    @Test
    void shouldKeepTheTermWhenTheHolderAsksAgainInTheSameRoleEvenWithAnOlderKnownTerm() throws IOException {
        WitnessLedger l = ledger();
        l.decide("vm1", "a", Role.PRIMARY, 0);
        Grant active = l.decide("vm1", "a", Role.ACTIVE, 1);
        assertThat(active.term()).isEqualTo(2);
        assertThat(l.decide("vm1", "a", Role.ACTIVE, 2).term()).isEqualTo(2);
        // a lost answer: asking again with the term it knew before keeps the grant
        Grant again = l.decide("vm1", "a", Role.ACTIVE, 1);
        assertThat(again.outcome()).isEqualTo(Outcome.GRANTED);
        assertThat(again.term()).isEqualTo(2);
    }

    @Test
    void shouldIncreaseTheTermWhenTheHolderChangesRole() throws IOException {
        WitnessLedger l = ledger();
        assertThat(l.decide("vm1", "a", Role.PRIMARY, 0).term()).isEqualTo(1);
        assertThat(l.decide("vm1", "a", Role.ACTIVE, 1).term()).isEqualTo(2);
        assertThat(l.decide("vm1", "a", Role.PRIMARY, 2).term()).isEqualTo(3); // re-protection
    }

    @Test
    void shouldRefuseATakeoverWhileTheHoldersLeaseIsLiveAndSayHowLongItHasLeft() throws IOException {
        WitnessLedger l = ledger();
        l.decide("vm1", "a", Role.PRIMARY, 0);
        clock.advanceMillis(400);
        Grant g = l.decide("vm1", "b", Role.ACTIVE, 1);
        assertThat(g.outcome()).isEqualTo(Outcome.BUSY);
        assertThat(g.holder()).isEqualTo("a");
        assertThat(g.retryAfter()).isEqualTo(Duration.ofMillis(600));
        assertThat(g.reason()).contains("a holds term 1").contains("600 ms left");
    }

    @Test
    void shouldGrantATakeoverWithTheNextTermOnceTheLeaseHasExpired() throws IOException {
        WitnessLedger l = ledger();
        l.decide("vm1", "a", Role.PRIMARY, 0);
        clock.advanceMillis(1000);
        Grant g = l.decide("vm1", "b", Role.ACTIVE, 1);
        assertThat(g.outcome()).isEqualTo(Outcome.GRANTED);
        assertThat(g.term()).isEqualTo(2);
        assertThat(g.holder()).isEqualTo("b");
        Grant old = l.decide("vm1", "a", Role.ACTIVE, 1);
        assertThat(old.outcome()).isEqualTo(Outcome.REFUSED);
        assertThat(old.holder()).isEqualTo("b");
        assertThat(old.reason()).contains("stale").contains("term 2");
    }

    @Test
    void shouldRefuseForGoodABackupWhoseImageIsOlderThanAPrimaryThatWentAlone() throws IOException {
        WitnessLedger l = ledger();
        l.decide("vm1", "a", Role.PRIMARY, 0);
        l.decide("vm1", "a", Role.ACTIVE, 1); // the primary lost its backup and went alone: term 2
        clock.advanceMillis(10_000); // even after its lease is long gone (it died)...
        Grant g = l.decide("vm1", "b", Role.ACTIVE, 1); // ...the backup's term-1 image is stale
        assertThat(g.outcome()).isEqualTo(Outcome.REFUSED);
        assertThat(g.term()).isEqualTo(2);
    }

    @Test
    void shouldRefuseAKnownTermAheadOfTheWitness() throws IOException {
        Grant g = ledger().decide("vm1", "b", Role.ACTIVE, 7);
        assertThat(g.outcome()).isEqualTo(Outcome.REFUSED);
        assertThat(g.reason()).contains("ahead");
    }

    @Test
    void shouldReleaseOnStandbyFromTheHolderAndLetTheOtherNodeInAtOnce() throws IOException {
        WitnessLedger l = ledger();
        l.decide("vm1", "a", Role.PRIMARY, 0);
        Grant query = l.decide("vm1", "b", Role.STANDBY, 0);
        assertThat(query.outcome()).isEqualTo(Outcome.GRANTED);
        assertThat(query.holder()).isEqualTo("a");
        assertThat(l.snapshot().get("vm1").holder()).isEqualTo("a");
        Grant release = l.decide("vm1", "a", Role.STANDBY, 1);
        assertThat(release.holder()).isNull();
        Grant b = l.decide("vm1", "b", Role.ACTIVE, 1); // planned switchover: no lease to wait for
        assertThat(b.outcome()).isEqualTo(Outcome.GRANTED);
        assertThat(b.term()).isEqualTo(2);
    }

    @Test
    void shouldGrantExactlyOneOfTwoRacingRequestsWhateverTheOrder() throws IOException {
        for (boolean aFirst : new boolean[]{true, false}) {
            WitnessLedger l = ledger();
            l.decide("vm1", "a", Role.PRIMARY, 0);
            clock.advanceMillis(2000);
            Grant first = aFirst ? l.decide("vm1", "a", Role.ACTIVE, 1) : l.decide("vm1", "b", Role.ACTIVE, 1);
            Grant second = aFirst ? l.decide("vm1", "b", Role.ACTIVE, 1) : l.decide("vm1", "a", Role.ACTIVE, 1);
            assertThat(first.granted()).isTrue();
            assertThat(second.outcome()).isEqualTo(Outcome.REFUSED);
        }
    }

    @Test
    void shouldKeepVmsApart() throws IOException {
        WitnessLedger l = ledger();
        l.decide("vm1", "a", Role.PRIMARY, 0);
        assertThat(l.decide("vm2", "b", Role.PRIMARY, 0).outcome()).isEqualTo(Outcome.GRANTED);
        assertThat(l.snapshot()).containsOnlyKeys("vm1", "vm2");
    }

    @Test
    void shouldAnswerUnreachableAndChangeNothingWhenTheStoreFails() throws IOException {
        boolean[] fail = {false};
        WitnessLedger l = new WitnessLedger(LEASE, clock, new TermStore() {
            @Override
            public Map<String, Stored> load() {
                return Map.of();
            }

            @Override
            public void save(Map<String, Stored> all) throws IOException {
                if (fail[0]) throw new IOException("disk full");
            }
        });
        l.decide("vm1", "a", Role.PRIMARY, 0);
        fail[0] = true;
        Grant g = l.decide("vm1", "a", Role.ACTIVE, 1);
        assertThat(g.outcome()).isEqualTo(Outcome.UNREACHABLE);
        assertThat(g.reason()).contains("disk full");
        assertThat(l.snapshot().get("vm1").term()).isEqualTo(1);
        assertThat(l.snapshot().get("vm1").role()).isEqualTo(Role.PRIMARY);
    }
}
