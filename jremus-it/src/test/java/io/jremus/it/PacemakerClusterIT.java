package io.jremus.it;

import ch.qos.logback.classic.Level;
import io.jremus.cli.cluster.CrmStatus;
import io.jremus.cli.cluster.ExecResult;
import io.jremus.cli.cluster.NodeNamespaces;
import io.jremus.cli.cluster.PacemakerCluster;
import io.jremus.cli.testbed.Sh;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The cluster harness with the real Debian Pacemaker + Corosync: three nodes form a quorate
 * cluster, a promotable clone of {@code ocf:pacemaker:Stateful} gets one Promoted instance, and
 * when the Promoted node is killed (power loss) or cut off the ring, the others fence it through
 * {@code fence_nskill} before promoting another node. Killed and fenced nodes restart and rejoin.
 * Closing the cluster leaves no namespace and no process of any node.
 */
class PacemakerClusterIT {
    @TempDir
    Path dir;
    private static final String PREFIX = "jrpcit";
    private static final String CLONE = "st-clone";
    private static final String STATEFUL_CLONE = """
            <clone id="st-clone">
              <meta_attributes id="st-clone-meta">
                <nvpair id="st-clone-promotable" name="promotable" value="true"/>
                <nvpair id="st-clone-promoted-max" name="promoted-max" value="1"/>
                <nvpair id="st-clone-clone-max" name="clone-max" value="3"/>
              </meta_attributes>
              <primitive id="st" class="ocf" provider="pacemaker" type="Stateful">
                <operations>
                  <op id="st-monitor-promoted" name="monitor" interval="3s" role="Promoted"/>
                  <op id="st-monitor-unpromoted" name="monitor" interval="4s" role="Unpromoted"/>
                </operations>
              </primitive>
            </clone>
            """;
    private static final Duration FAILOVER_TIMEOUT = Duration.ofSeconds(90);

    @Test
    void shouldFenceAndPromoteAnotherNodeWhenThePromotedNodeIsKilledOrPartitioned() throws Exception {
        String why = PacemakerCluster.unavailableReason();
        assumeTrue(why == null, "skipped: " + why);
        assumeTrue(Files.isExecutable(Path.of("/usr/lib/ocf/resource.d/pacemaker/Stateful")),
                "skipped: ocf:pacemaker:Stateful is not installed (apt-get install pacemaker)");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/socat")), "skipped: socat is not installed (apt-get install socat)");
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("io.jremus.cli.cluster")).setLevel(Level.INFO);

        // a stand-in OCF provider, to see the overlay on /usr/lib/ocf/resource.d
        Path ocf = Files.createDirectories(dir.resolve("ocf/jrtest"));
        Files.writeString(ocf.resolve("noop"), "#!/bin/sh\nexit 0\n");
        PacemakerCluster cluster = PacemakerCluster.builder().prefix(PREFIX).ocfRoot(dir.resolve("ocf"))
                .fenceAgent(TestGuest.repoRoot().resolve("ha/fence/fence_nskill")).build();
        Path base = cluster.baseDir();
        Set<NodeNamespaces> seen = Set.of();
        try {
            long t = System.nanoTime();
            cluster.up();
            double formed = secondsSince(t);
            CrmStatus s = cluster.status("node1");
            assertThat(s.onlineNodes()).containsExactlyInAnyOrder("node1", "node2", "node3");
            assertThat(s.quorate()).isTrue();
            assertThat(s.dc()).isPresent();
            ExecResult quorum = cluster.exec("node2", "corosync-quorumtool", "-s");
            assertThat(quorum.stdout()).containsPattern("Quorate:\\s+Yes");
            assertThat(cluster.exec("node3", "hostname").stdout().strip()).isEqualTo("node3");
            assertThat(cluster.exec("node2", "test", "-x", "/usr/lib/ocf/resource.d/jrtest/noop").ok()).as("OCF overlay").isTrue();
            assertThat(cluster.exec("node2", "test", "-x", "/usr/lib/ocf/resource.d/pacemaker/Stateful").ok()).as("stock agents under the overlay").isTrue();
            for (String n : cluster.nodeNames()) {
                assertThat(cluster.exec(n, "ip", "-br", "link", "show", "master", "br0").stdout()).contains("jtap0", "jtap1", "seg0");
            }

            t = System.nanoTime();
            cluster.createResources(STATEFUL_CLONE);
            String first = cluster.awaitPromoted(CLONE, "node1", null, Duration.ofSeconds(60));
            double firstPromoted = secondsSince(t);

            // power loss of the Promoted node
            String viewer = other(cluster, first);
            int fenceLines = cluster.fenceLog().size();
            t = System.nanoTime();
            cluster.killNode(first);
            String second = cluster.awaitPromoted(CLONE, viewer, first, FAILOVER_TIMEOUT);
            double killToPromoted = secondsSince(t);
            assertThat(second).isNotEqualTo(first);
            assertFenced(cluster, first, fenceLines);
            t = System.nanoTime();
            cluster.startNode(first);
            cluster.awaitFormed(viewer, 3, Duration.ofSeconds(60));
            double killedRejoined = secondsSince(t);

            // the Promoted node is cut off the ring: the majority fences it, then promotes
            viewer = other(cluster, second);
            // a listener on the Promoted node's segment address: it is in the node's namespaces,
            // so fencing must kill it too
            cluster.spawnInNode(second, dir.resolve("listener.log"), "socat", "TCP-LISTEN:7001,bind=" + cluster.segmentIp(second)
                    + ",reuseaddr,fork", "SYSTEM:echo pong");
            String target = cluster.segmentIp(second);
            PacemakerCluster.waitUntil(Duration.ofSeconds(10), "the listener on " + second, () -> pong(cluster, target));
            fenceLines = cluster.fenceLog().size();
            t = System.nanoTime();
            cluster.partition(second);
            assertThat(pong(cluster, target)).as("the client still reaches a node cut off the ring (the segment is separate)").isTrue();
            String third = cluster.awaitPromoted(CLONE, viewer, second, FAILOVER_TIMEOUT);
            double partitionToPromoted = secondsSince(t);
            assertThat(third).isNotEqualTo(second);
            assertFenced(cluster, second, fenceLines);
            PacemakerCluster.waitUntil(Duration.ofSeconds(15), second + "'s processes to be gone", () -> !cluster.running(second));
            cluster.heal(second);
            t = System.nanoTime();
            cluster.startNode(second);
            cluster.awaitFormed(viewer, 3, Duration.ofSeconds(60));
            double partitionedRejoined = secondsSince(t);
            assertThat(cluster.status(viewer).promotedNodes(CLONE)).containsExactly(third);

            System.err.printf("pacemaker cluster: formed (3 online, DC, quorate) %.2f s; first Promoted %.2f s after the resource was created;"
                            + " kill -9 of Promoted %s -> %s Promoted %.2f s (rejoined %.2f s after restart);"
                            + " partition of Promoted %s -> %s Promoted %.2f s (rejoined %.2f s after heal+restart)%n",
                    formed, firstPromoted, first, second, killToPromoted, killedRejoined, second, third, partitionToPromoted, partitionedRejoined);
            System.err.println("fence.log:\n  " + String.join("\n  ", cluster.fenceLog()));
        } catch (Throwable e) {
            System.err.println(cluster.diagnostics(40));
            throw e;
        } finally {
            seen = cluster.namespacesSeen();
            cluster.close();
        }
        List<String> left = Sh.ip("netns", "list").output().lines().map(l -> l.split(" ")[0]).filter(n -> n.startsWith(PREFIX + "-")).toList();
        assertThat(left).as("namespaces left after close").isEmpty();
        // (a restarted node often gets its old mount-namespace id back: the kernel reuses freed ids)
        assertThat(seen.stream().map(NodeNamespaces::node).distinct()).as("nodes whose namespaces were recorded")
                .containsExactlyInAnyOrder("node1", "node2", "node3");
        assertThat(NodeNamespaces.processes(seen)).as("processes of any node left after close").isEmpty();
        assertThat(base).as("base directory after close").doesNotExist();
    }

    /** A fence.log line after {@code from} says the agent finished killing {@code node}. */
    private static void assertFenced(PacemakerCluster cluster, String node, int from) throws Exception {
        PacemakerCluster.waitUntil(Duration.ofSeconds(30), "fence.log to show " + node + " fenced", () -> {
            List<String> l = cluster.fenceLog();
            return l.subList(Math.min(from, l.size()), l.size()).stream().anyMatch(x -> fencedLine(x, node));
        });
        List<String> lines = cluster.fenceLog();
        assertThat(lines.subList(from, lines.size())).anyMatch(x -> fencedLine(x, node));
        assertThat(cluster.running(node)).as(node + " has processes after being fenced").isFalse();
    }

    private static boolean fencedLine(String line, String node) {
        return (line.contains("action=reboot ") || line.contains("action=off ")) && line.contains(" target=" + node + " ") && line.endsWith(" done");
    }

    /** The client connects to {@code ip}:7001 over the guests' segment and reads "pong". */
    private static boolean pong(PacemakerCluster cluster, String ip) throws Exception {
        Sh.Result r = Sh.run(10, List.of("ip", "netns", "exec", cluster.clientNs(), "socat", "-T", "2", "-", "TCP:" + ip + ":7001"));
        return r.ok() && r.output().strip().equals("pong");
    }

    private static String other(PacemakerCluster cluster, String node) {
        return cluster.nodeNames().stream().filter(n -> !n.equals(node)).findFirst().orElseThrow();
    }

    private static double secondsSince(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }
}
