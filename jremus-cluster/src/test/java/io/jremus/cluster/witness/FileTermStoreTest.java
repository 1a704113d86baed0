package io.jremus.cluster.witness;

import io.jremus.cluster.ManualClock;
import io.jremus.replication.failover.Grant;
import io.jremus.replication.failover.Grant.Outcome;
import io.jremus.replication.failover.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FileTermStoreTest {
    private static final Duration LEASE = Duration.ofMillis(1000);

    @Test
    void shouldNeverReissueATermAfterARestart(@TempDir Path dir) throws IOException {
        ManualClock clock = new ManualClock(0);
        Path f = dir.resolve("witness.state");
        WitnessLedger first = new WitnessLedger(LEASE, clock, new FileTermStore(f));
        first.decide("vm1", "a", Role.PRIMARY, 0);
        first.decide("vm1", "a", Role.ACTIVE, 1);
        assertThat(Files.readString(f)).isEqualTo("jremus-witness-state 1\nvm vm1 2 a 2\n");

        WitnessLedger restarted = new WitnessLedger(LEASE, clock, new FileTermStore(f));
        assertThat(restarted.snapshot().get("vm1").term()).isEqualTo(2);
        clock.advanceMillis(5000);
        Grant g = restarted.decide("vm1", "b", Role.ACTIVE, 2);
        assertThat(g.term()).isEqualTo(3);
        assertThat(Files.exists(dir.resolve("witness.state.tmp"))).isFalse();
    }

    @Test
    void shouldTreatEveryHeldLeaseAsLiveForOneLeaseAfterARestart(@TempDir Path dir) throws IOException {
        ManualClock clock = new ManualClock(0);
        Path f = dir.resolve("w");
        new WitnessLedger(LEASE, clock, new FileTermStore(f)).decide("vm1", "a", Role.ACTIVE, 0);
        clock.advanceMillis(900); // the old witness's lease for a would end at 1000
        WitnessLedger restarted = new WitnessLedger(LEASE, clock, new FileTermStore(f));
        clock.advanceMillis(500); // 1400: past the old expiry, but within a lease of the restart
        assertThat(restarted.decide("vm1", "b", Role.ACTIVE, 1).outcome()).isEqualTo(Outcome.BUSY);
        clock.advanceMillis(500);
        assertThat(restarted.decide("vm1", "b", Role.ACTIVE, 1).outcome()).isEqualTo(Outcome.GRANTED);
    }

    @Test
    void shouldRefuseToStartFromAFileThatDoesNotParseRatherThanFromZero(@TempDir Path dir) throws IOException {
        Path f = Files.writeString(dir.resolve("w"), "jremus-witness-state 1\nvm vm1 two a 1\n");
        assertThatThrownBy(() -> new FileTermStore(f).load()).isInstanceOf(IOException.class)
                .hasMessageContaining("line 2").hasMessageContaining("two");
        Path g = Files.writeString(dir.resolve("g"), "hello\n");
        assertThatThrownBy(() -> new FileTermStore(g).load()).hasMessageContaining("not a witness state file");
    }

    @Test
    void shouldStartEmptyWhenThereIsNoFileYet(@TempDir Path dir) throws IOException {
        assertThat(new FileTermStore(dir.resolve("none")).load()).isEmpty();
    }
}
