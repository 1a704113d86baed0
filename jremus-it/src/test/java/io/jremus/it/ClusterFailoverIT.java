package io.jremus.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.jremus.cli.cluster.ExecResult;
import io.jremus.cli.cluster.PacemakerCluster;
import io.jremus.cli.cluster.RemusCluster;
import io.jremus.cli.cluster.SegmentCapture;
import io.jremus.cli.testbed.IncrClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Two protected VMs in a real 3-node Pacemaker + Corosync cluster (namespaces on this machine,
 * Debian's daemons, fencing by a test agent that kills a node's processes), each a promotable
 * clone of {@code ocf:jremus:vm} running the test guest's Redis-protocol server with an
 * append-only log on its disk. One client per VM INCRs over ONE TCP connection throughout.
 * The steps run in order on the same cluster:
 * <ol>
 *   <li>both VMs come up protected (primary + committed backup);</li>
 *   <li>kill -9 of every process of vma's primary node: the node is fenced, the backup promoted,
 *       the connection survives, no acknowledged INCR is lost, and a new backup is seeded on the
 *       third node;</li>
 *   <li>the killed node comes back: the backup moves back to it and its disk resyncs only what
 *       changed (counted), where the third node's seed copied the whole log;</li>
 *   <li>planned switchover with {@code crm_resource --move}: no lost INCR, the connection lives;</li>
 *   <li>partition of vma's primary node from the ring (the guest segment stays up): the majority
 *       fences it and promotes the backup; from the client's side, no frame from the old primary
 *       after the new one's first reply;</li>
 *   <li>vmb was never disturbed: its connection and count are intact.</li>
 * </ol>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterFailoverIT {
    private static final Logger log = LoggerFactory.getLogger(ClusterFailoverIT.class);
    private static final Duration FAILOVER = Duration.ofSeconds(90);

    private PacemakerCluster cluster;
    private RemusCluster rc;
    private IncrClient ca;
    private IncrClient cb;
    private String primaryA;
    private String backupA;
    private final long wall0 = System.currentTimeMillis();
    private final long mono0 = System.nanoTime();

    @BeforeAll
    void up() throws Exception {
        TestGuest.requireKvm();
        String why = PacemakerCluster.unavailableReason();
        assumeTrue(why == null, "skipped: " + why);
        assumeTrue(Files.isExecutable(java.nio.file.Path.of("/usr/bin/tcpdump")) || Files.isExecutable(java.nio.file.Path.of("/usr/sbin/tcpdump")),
                "skipped: tcpdump is not installed (scripts/setup-host.sh installs it)");
        cluster = PacemakerCluster.builder().prefix("jrcf").tokenMillis(1000).ocfRoot(TestGuest.repoRoot().resolve("ha/ocf")).build();
        try {
            cluster.up();
            rc = new RemusCluster(cluster, TestGuest.repoRoot(), TestGuest.elf(), 64L << 20);
            rc.addVm(new RemusCluster.VmSpec("vma", "10.78.0.2", "jtap0", 7790, List.of("node1", "node2", "node3")));
            rc.addVm(new RemusCluster.VmSpec("vmb", "10.78.0.4", "jtap1", 7791, List.of("node3", "node1", "node2")));
        } catch (Exception | AssertionError e) {
            down();
            throw e;
        }
    }

    @AfterAll
    void down() throws Exception {
        for (IncrClient c : new IncrClient[]{ca, cb}) {
            if (c != null) c.close();
        }
        if (cluster != null) {
            if (rc != null) {
                log.info("diagnostics:\n{}", rc.diagnostics(25));
                rc.saveLogs(java.nio.file.Path.of("target/cluster-logs/" + getClass().getSimpleName()));
            }
            cluster.close();
        }
        if (rc != null) rc.close();
    }

    @Test
    @Order(1)
    void bothVmsComeUpProtected() throws Exception {
        String[] a = rc.awaitProtected("vma", Duration.ofSeconds(120));
        String[] b = rc.awaitProtected("vmb", Duration.ofSeconds(120));
        primaryA = a[0];
        backupA = a[1];
        assertThat(a).containsExactly("node1", "node2");
        assertThat(b).containsExactly("node3", "node1");
        assertThat(cluster.promotedNode("vma-clone")).contains("node1");
        ca = rc.client("vma", Duration.ofSeconds(30));
        cb = rc.client("vmb", Duration.ofSeconds(30));
        ca.startPump(2);
        cb.startPump(5);
        Thread.sleep(1500);
        assertThat(ca.acked()).isPositive();
        assertThat(cb.acked()).isPositive();
    }

    @Test
    @Order(2)
    void killingThePrimaryNodeFencesItPromotesTheBackupAndReseedsOnTheThirdNode() throws Exception {
        long before = ca.acked();
        long kill = System.nanoTime();
        cluster.killNode(primaryA);
        PacemakerCluster.waitUntil(FAILOVER, "vma answers again after the kill", () -> ca.repliesSince(kill) > 20 || ca.failure() != null);
        assertThat(ca.failure()).as("client").isNull();
        assertThat(ca.wasReset()).isFalse();
        long firstReply = ca.takeoverReplyAfter(kill);
        log.info("kill -9 {} -> first reply from the promoted backup after {} ms", primaryA, (firstReply - kill) / 1_000_000);
        assertThat(cluster.fenceLog()).anySatisfy(l -> assertThat(l).contains(primaryA).containsAnyOf("reboot", "off"));
        assertThat(cluster.promotedNode("vma-clone", backupA)).contains(backupA);
        assertThat(ca.acked()).isGreaterThan(before);
        // vmb lost its backup (on the same node): its primary held output until Pacemaker said so.
        PacemakerCluster.waitUntil(FAILOVER, "vmb answers again", () -> cb.repliesSince(kill) > 20 || cb.failure() != null);
        assertThat(cb.failure()).isNull();
        log.info("vmb (backup lost with {}): answered again {} ms after the kill", primaryA, (cb.takeoverReplyAfter(kill) - kill) / 1_000_000);

        // Re-protection: Pacemaker starts the second instance on the third node, seeded live.
        String[] now = rc.awaitProtected("vma", FAILOVER);
        assertThat(now).containsExactly(backupA, "node3");
        JsonNode seeded = rc.status("vma", backupA).orElseThrow();
        log.info("reseed of node3: {}", seeded);
        checkCount(ca);
        primaryA = backupA;
        backupA = "node3";
    }

    @Test
    @Order(3)
    void theKilledNodeRejoinsAndResyncsOnlyChangedBlocks() throws Exception {
        cluster.startNode("node1");
        cluster.awaitFormed(primaryA, 3, Duration.ofSeconds(60));
        // vma prefers node1 for an instance: Pacemaker moves the backup back from node3.
        PacemakerCluster.waitUntil(FAILOVER, "vma's backup back on node1", () -> rc.syncedBackup("vma").filter("node1"::equals).isPresent()
                && rc.protectedPrimary("vma").isPresent());
        JsonNode primary = rc.status("vma", primaryA).orElseThrow();
        log.info("resync of node1 from {}: {}", primaryA, primary);
        JsonNode resync = primary.path("resync");
        assertThat(resync.isMissingNode()).as("primary status reports the resync: %s", primary).isFalse();
        assertThat(resync.path("fullCopy").asBoolean(true)).as("a rejoining node must not get a full copy: %s", resync).isFalse();
        long chunks = resync.path("chunks").asLong(-1);
        assertThat(chunks).isPositive();
        assertThat(resync.path("bytes").asLong()).isLessThan((64L << 20) / 8);
        backupA = "node1";
        checkCount(ca);
    }

    @Test
    @Order(4)
    void plannedSwitchoverMovesThePrimaryWithoutLosingState() throws Exception {
        long start = System.nanoTime();
        String target = backupA;
        ExecResult r = cluster.exec(primaryA, "crm_resource", "--move", "--promoted", "-r", "vma-clone", "-N", target);
        assertThat(r.status()).as(r.output()).isZero();
        try {
            PacemakerCluster.waitUntil(FAILOVER, "vma promoted on " + target, () -> cluster.promotedNode("vma-clone", target).filter(target::equals).isPresent());
            String[] now = rc.awaitProtected("vma", FAILOVER);
            assertThat(now[0]).isEqualTo(target);
            backupA = now[1];
            primaryA = target;
        } finally {
            cluster.exec(primaryA, "crm_resource", "--clear", "-r", "vma-clone");
        }
        assertThat(ca.failure()).isNull();
        assertThat(ca.wasReset()).isFalse();
        log.info("switchover to {}: longest reply gap {} ms, {} ms until protected again", target, ca.longestGapMillis(),
                (System.nanoTime() - start) / 1_000_000);
        JsonNode st = rc.status("vma", primaryA).orElseThrow();
        assertThat(st.path("takeoverMillis").asLong()).isNotNegative();
        checkCount(ca);
    }

    @Test
    @Order(5)
    void aPartitionedPrimaryIsFencedAndReleasesNothingAfterTheNewPrimaryAnswers() throws Exception {
        String old = primaryA;
        String survivor = backupA;
        java.nio.file.Path pcap = rc.work().resolve("partition-" + old + ".txt");
        try (SegmentCapture cap = SegmentCapture.start(cluster.segmentNs(), "to-" + old, rc.guestMac("vma"), pcap)) {
            Thread.sleep(300);
            assertThat(cap.frames()).as("the capture sees the primary's replies").isPositive();
            long cut = System.nanoTime();
            cluster.partition(old);
            PacemakerCluster.waitUntil(FAILOVER, "vma answers again after the partition", () -> ca.repliesSince(cut) > 20 || ca.failure() != null);
            assertThat(ca.failure()).isNull();
            assertThat(ca.wasReset()).isFalse();
            long first = ca.takeoverReplyAfter(cut);
            log.info("partition of {} -> first reply from {} after {} ms", old, survivor, (first - cut) / 1_000_000);
            assertThat(cluster.fenceLog()).anySatisfy(l -> assertThat(l).contains(old).containsAnyOf("reboot", "off"));
            assertThat(cluster.running(old)).as("the fenced node's processes are gone").isFalse();
            Thread.sleep(2000); // anything the old primary still had would show up now
            long firstEpochMicros = (wall0 + (first - mono0) / 1_000_000) * 1000 - 5_000; // 5 ms of clock slack, against us
            assertThat(cap.linesAfter(firstEpochMicros)).as("frames from the old primary after the new one's first reply").isEmpty();
        } finally {
            cluster.heal(old);
        }
        assertThat(cluster.promotedNode("vma-clone", survivor)).contains(survivor);
        checkCount(ca);
        primaryA = survivor;
        backupA = rc.awaitProtected("vma", FAILOVER)[1];
    }

    /**
     * vmb's backup was on node1, killed in step 2 and partitioned in step 5: each time its primary
     * held output until Pacemaker reported that instance stopped (after fencing), then went on
     * and was protected again; the connection and the count survived all of it.
     */
    @Test
    @Order(6)
    void theOtherVmLostItsBackupTwiceAndKeptEveryWrite() throws Exception {
        assertThat(cb.failure()).isNull();
        assertThat(cb.wasReset()).isFalse();
        assertThat(cluster.promotedNode("vmb-clone", "node3")).contains("node3");
        String[] b = rc.awaitProtected("vmb", FAILOVER);
        assertThat(b[0]).isEqualTo("node3");
        checkCount(cb);
        log.info("vmb: {} INCRs over one connection, longest gap {} ms, backup now on {}", cb.acked(), cb.longestGapMillis(), b[1]);
    }

    /** Stops the pump, checks the server's counter against every acknowledged INCR, restarts it. */
    private static void checkCount(IncrClient c) throws Exception {
        c.stopPump(Duration.ofSeconds(30));
        assertThat(c.failure()).isNull();
        assertThat(c.get()).as("every acknowledged INCR counted once").isEqualTo(c.base() + c.acked());
        c.startPump(2);
    }
}
