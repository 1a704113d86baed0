package io.jremus.it;

import io.jremus.cli.testbed.IncrClient;
import io.jremus.cli.testbed.RemusWorld;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 5 evidence (b), invariant 1 (output commit): the backup's test hook stops acknowledging
 * checkpoints after epoch W while it keeps committing them and sending heartbeats. From then on
 * the client receives nothing the guest sent: its INCR in flight stays unanswered for seconds
 * although the primary keeps checkpointing (the guest runs and has answered it). When the primary
 * is then killed, the backup takes over from its newest committed epoch, the guest's TCP
 * retransmits the held reply, and the count is still exact.
 */
class RemusOutputCommitIT {
    private static final long WITHHOLD_AFTER = 160; // about 4 s after protection at 40 Hz
    @TempDir
    static Path dir;
    private static RemusWorld world;

    @BeforeAll
    static void up() throws Exception {
        world = RemusWorlds.up("jrit-oc", dir);
    }

    @AfterAll
    static void down() throws Exception {
        if (world != null) world.close();
    }

    @Test
    void shouldReleaseNothingTheGuestSentAfterTheLastAcknowledgedEpoch() throws Exception {
        RemusWorld.Pair pair = world.startPair(RemusWorld.PairOptions.defaults().withholdAcksAfter(WITHHOLD_AFTER));
        pair.awaitProtected(Duration.ofSeconds(90));
        try (IncrClient c = world.client(Duration.ofSeconds(20))) {
            c.startPump(0);
            RemusWorlds.awaitMoreAcks(c, 10, Duration.ofSeconds(30));
            pair.backup().await(l -> l.contains("withholding every ACK after epoch " + WITHHOLD_AFTER), Duration.ofSeconds(60));
            long withheld = System.nanoTime();
            long ackedAtWithhold = c.acked();
            // Replies released by ACK(W) may still be on the wire; after that, nothing may arrive.
            Thread.sleep(300);
            long quietFrom = System.nanoTime();
            long lastBefore = c.last();
            long epochsBefore = ((Number) pair.stats().getOrDefault("epochs", 0)).longValue();
            Thread.sleep(3500);
            long epochsAfter = ((Number) pair.stats().getOrDefault("epochs", 0)).longValue();
            assertThat(c.failure()).isNull();
            assertThat(c.repliesSince(quietFrom)).as("replies received while the backup withheld its acks").isZero();
            assertThat(c.last()).isEqualTo(lastBefore);
            assertThat(c.outstandingSince()).as("the client has an INCR in flight").isPositive();
            assertThat(epochsAfter - epochsBefore).as("the primary kept checkpointing (stats epochs)").isGreaterThan(40);
            assertThat(pair.primary().alive()).isTrue();
            System.err.printf("acks withheld after epoch %d: %d INCRs acked until then (%d within 300 ms after), none in %.1f s while the primary ran %d more epochs%n",
                    WITHHOLD_AFTER, ackedAtWithhold, c.acked() - ackedAtWithhold, (System.nanoTime() - quietFrom) / 1e9, epochsAfter - epochsBefore);

            long kill = world.killHost("a");
            String takeover = pair.backup().await(l -> l.contains("TAKEOVER: running epoch"), Duration.ofSeconds(30));
            long epoch = Long.parseLong(takeover.replaceAll(".*running epoch (\\d+).*", "$1"));
            assertThat(epoch).as("the backup committed past the last acknowledged epoch").isGreaterThan(WITHHOLD_AFTER);
            RemusWorlds.awaitMoreAcks(c, 20, Duration.ofSeconds(60));
            assertThat(c.firstReplyAfter(kill)).isPositive();
            RemusWorlds.assertExact(c, "after takeover\n--- backup log ---\n" + pair.backup().log());
            assertThat(withheld).isPositive();
        }
    }
}
