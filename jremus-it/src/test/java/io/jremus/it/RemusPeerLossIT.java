package io.jremus.it;

import io.jremus.cli.testbed.IncrClient;
import io.jremus.cli.testbed.RemusWorld;
import io.jremus.cli.testbed.Testbed;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 5 evidence (e) and (f), invariant 5 (one active instance): the replication link is cut
 * with both hosts alive, or the backup host's processes are killed. Either way the primary asks
 * the witness, is granted, says UNPROTECTED and keeps serving the same client connection with an
 * exact count; after the cut the backup is refused and starts no VM.
 */
class RemusPeerLossIT {
    @TempDir
    static Path dir;
    private static RemusWorld world;

    @BeforeAll
    static void up() throws Exception {
        world = RemusWorlds.up("jrit-loss", dir);
    }

    @AfterAll
    static void down() throws Exception {
        if (world != null) world.close();
    }

    @AfterEach
    void clean() throws Exception {
        if (world == null) return;
        world.heal(Testbed.Link.REPLICATION);
        world.killHost("a");
        world.killHost("b");
    }

    @Test
    void shouldLeaveExactlyOneInstanceServingWhenTheReplicationLinkIsCut() throws Exception {
        RemusWorld.Pair pair = world.startPair(RemusWorld.PairOptions.defaults());
        pair.awaitProtected(Duration.ofSeconds(90));
        try (IncrClient c = world.client(Duration.ofSeconds(20))) {
            c.startPump(0);
            RemusWorlds.awaitMoreAcks(c, 20, Duration.ofSeconds(30));
            long cut = System.nanoTime();
            world.cut(Testbed.Link.REPLICATION);
            String granted = pair.primary().await(l -> l.contains("UNPROTECTED: arbiter granted term"), Duration.ofSeconds(30));
            Integer backupExit = pair.backup().awaitExit(Duration.ofSeconds(30));
            assertThat(backupExit).as("the backup must end refused (exit 4)\n" + pair.backup().log()).isEqualTo(4);
            assertThat(pair.backup().log()).contains("backup: REFUSED by the arbiter").doesNotContain("TAKEOVER");
            RemusWorlds.awaitMoreAcks(c, 40, Duration.ofSeconds(60));
            assertThat(pair.primary().alive()).isTrue();
            RemusWorlds.assertExact(c, "after the cut\n--- primary log ---\n" + pair.primary().log());
            System.err.printf("link cut: %s; backup refused; longest gap between replies %.0f ms; %d acked%n",
                    granted, c.longestGapMillis(), c.acked());
            assertThat(cut).isPositive();
        }
    }

    @Test
    void shouldKeepServingUnprotectedAndSaySoWhenTheBackupIsKilled() throws Exception {
        RemusWorld.Pair pair = world.startPair(RemusWorld.PairOptions.defaults());
        pair.awaitProtected(Duration.ofSeconds(90));
        try (IncrClient c = world.client(Duration.ofSeconds(20))) {
            c.startPump(0);
            RemusWorlds.awaitMoreAcks(c, 20, Duration.ofSeconds(30));
            long kill = world.killHost("b");
            pair.primary().await(l -> l.contains("backup lost:"), Duration.ofSeconds(30));
            String granted = pair.primary().await(l -> l.contains("UNPROTECTED: arbiter granted term"), Duration.ofSeconds(30));
            long ackedAtLoss = c.acked();
            RemusWorlds.awaitMoreAcks(c, 40, Duration.ofSeconds(60));
            assertThat(pair.primary().alive()).isTrue();
            RemusWorlds.assertExact(c, "after the backup was killed\n--- primary log ---\n" + pair.primary().log());
            System.err.printf("backup killed: %s; %d acked at the loss, %d after; longest gap %.0f ms%n",
                    granted, ackedAtLoss, c.acked() - ackedAtLoss, c.longestGapMillis());
            assertThat(kill).isPositive();
        }
    }
}
