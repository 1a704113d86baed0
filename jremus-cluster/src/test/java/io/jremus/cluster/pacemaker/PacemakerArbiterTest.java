package io.jremus.cluster.pacemaker;

import io.jremus.replication.failover.Grant;
import io.jremus.replication.failover.Role;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class PacemakerArbiterTest {
    private static final Duration T = Duration.ofMillis(10);

    private static Grant.Outcome ask(PacemakerArbiter a, Role r) {
        return a.request("vm", "node2", r, 0, T).outcome();
    }

    @Test
    void aBackupNeverTakesOverBeforePacemakerPromotesIt() {
        PacemakerArbiter a = new PacemakerArbiter();
        for (int i = 0; i < 5; i++) assertThat(ask(a, Role.ACTIVE)).isEqualTo(Grant.Outcome.BUSY);
        assertThat(ask(a, Role.PRIMARY)).isEqualTo(Grant.Outcome.BUSY);
        a.promote();
        assertThat(ask(a, Role.ACTIVE)).isEqualTo(Grant.Outcome.GRANTED);
        assertThat(ask(a, Role.PRIMARY)).isEqualTo(Grant.Outcome.GRANTED);
    }

    @Test
    void aPrimaryHoldsOutputUntilPacemakerReportsItsBackupStopped() {
        PacemakerArbiter a = new PacemakerArbiter();
        a.promote();
        a.backupConnected("node3");
        assertThat(ask(a, Role.ACTIVE)).isEqualTo(Grant.Outcome.BUSY);
        a.peerStopped("node1"); // another node's instance: not the backup we lost
        assertThat(ask(a, Role.ACTIVE)).isEqualTo(Grant.Outcome.BUSY);
        assertThat(a.awaitedBackup()).isEqualTo("node3");
        a.peerStopped("node3");
        assertThat(ask(a, Role.ACTIVE)).isEqualTo(Grant.Outcome.GRANTED);
        assertThat(a.awaitedBackup()).isNull();
        // A new backup connects: losing it again needs a new word from Pacemaker.
        a.backupConnected("node1");
        assertThat(ask(a, Role.ACTIVE)).isEqualTo(Grant.Outcome.BUSY);
    }

    @Test
    void demoteAndStopRefuseEverythingButStandby() {
        PacemakerArbiter a = new PacemakerArbiter();
        a.promote();
        a.backupConnected("node3");
        a.demote();
        assertThat(ask(a, Role.ACTIVE)).isEqualTo(Grant.Outcome.REFUSED);
        assertThat(ask(a, Role.PRIMARY)).isEqualTo(Grant.Outcome.REFUSED);
        assertThat(ask(a, Role.STANDBY)).isEqualTo(Grant.Outcome.GRANTED);
        a.standby(); // demotion done: a standby again, which must wait for a promotion, not be refused
        assertThat(ask(a, Role.ACTIVE)).isEqualTo(Grant.Outcome.BUSY);
        a.promote();
        assertThat(ask(a, Role.ACTIVE)).isEqualTo(Grant.Outcome.GRANTED);
        a.stop();
        assertThat(ask(a, Role.ACTIVE)).isEqualTo(Grant.Outcome.REFUSED);
    }
}
