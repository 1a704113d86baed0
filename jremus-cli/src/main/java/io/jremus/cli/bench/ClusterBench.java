package io.jremus.cli.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.jremus.cli.UserException;
import io.jremus.cli.cluster.PacemakerCluster;
import io.jremus.cli.cluster.RemusCluster;
import io.jremus.cli.testbed.IncrClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code jremus bench cluster}: a protected VM in a real 3-node Pacemaker + Corosync cluster
 * (namespaces on this machine, Corosync token 1000 ms, fencing by the test agent). Each round
 * kills the primary's node with -9 while a client INCRs over one connection, and measures: the
 * failover through Pacemaker (kill to the first reply from the promoted backup), re-protection
 * (kill to a committed backup on the spare node), and, after the killed node is started again and
 * Pacemaker moves the backup back to it, the resync of its disk against a full copy.
 */
@Command(name = "cluster", mixinStandardHelpOptions = true,
        description = "Failover through Pacemaker, re-protection and failback resync in a namespaced 3-node cluster (needs root).")
public final class ClusterBench implements Callable<Integer> {
    private static final Duration STEP = Duration.ofSeconds(120);

    @Option(names = "--failovers", defaultValue = "3", description = "Rounds of kill, failover, rejoin (default ${DEFAULT-VALUE}).")
    int failovers;
    @Option(names = "--token-ms", defaultValue = "1000", description = "Corosync token timeout (default ${DEFAULT-VALUE}).")
    int tokenMs;
    @Option(names = "--prefix", defaultValue = "jrbc", description = "Namespace prefix (default ${DEFAULT-VALUE}).")
    String prefix;
    @Option(names = "--prefill-mib", defaultValue = "32", description = "Data on every disk besides the guest's log, "
            + "what a full copy sends and a resync does not (default ${DEFAULT-VALUE}).")
    long prefillMiB;
    @Option(names = "--json", defaultValue = "target/bench/cluster.json", description = "Where to write the JSON results.")
    Path json;

    /** One round's figures. */
    record Round(String killed, String promoted, long failoverMs, long reprotectMs, boolean spareFullCopy, long spareDiskBytes,
                 long spareSeedMs, long rejoinChunks, long rejoinBytes, boolean rejoinFullCopy, long rejoinSeedMs, long rejoinMs,
                 long acked) {
    }

    @Override
    public Integer call() throws Exception {
        String why = PacemakerCluster.unavailableReason();
        if (why != null) throw new UserException("bench cluster: " + why);
        if (failovers < 1) throw new UserException("--failovers must be at least 1");
        Path repo = Path.of(System.getProperty("jremus.home", ".")).toAbsolutePath();
        Path elf = repo.resolve("guest/build/jremus-guest.elf");
        if (!Files.exists(elf)) throw new UserException("no test guest at " + elf + ": run ./jremus image build");
        long diskBytes = 64L << 20;
        List<Round> rounds = new ArrayList<>();
        long setupMs;
        double[] switchover = {Double.NaN, Double.NaN};
        try (PacemakerCluster cluster = PacemakerCluster.builder().prefix(prefix).tokenMillis(tokenMs).ocfRoot(repo.resolve("ha/ocf")).build()) {
            long t0 = System.nanoTime();
            cluster.up();
            RemusCluster rc = new RemusCluster(cluster, repo, elf, diskBytes).prefill(prefillMiB << 20);
            try {
                rc.addVm(new RemusCluster.VmSpec("vma", "10.78.0.2", "jtap0", 7790, List.of("node1", "node2", "node3")));
                String[] pair = rc.awaitProtected("vma", STEP);
                setupMs = (System.nanoTime() - t0) / 1_000_000;
                progress("cluster formed and vma protected (" + pair[0] + " -> " + pair[1] + ") in " + setupMs + " ms");
                try (IncrClient client = rc.client("vma", Duration.ofSeconds(30))) {
                    client.startPump(5);
                    Thread.sleep(2000);
                    for (int i = 1; i <= failovers; i++) {
                        rounds.add(round(i, cluster, rc, client));
                    }
                    switchover = switchover(cluster, rc, client);
                    client.stopPump(Duration.ofSeconds(30));
                    if (client.failure() != null) throw new IllegalStateException("client failed: " + client.failure());
                    long value = client.get();
                    if (value != client.base() + client.acked()) {
                        throw new IllegalStateException("counter " + value + " != " + (client.base() + client.acked()) + ": an acknowledged INCR was lost");
                    }
                    progress("counter check passed: " + client.acked() + " INCRs over one connection, none lost, no reset");
                }
            } catch (java.util.concurrent.TimeoutException e) {
                System.err.println(rc.diagnostics(20));
                throw new BenchFailure("bench cluster: " + e.getMessage() + " (diagnostics above)");
            } catch (Exception | AssertionError e) {
                System.err.println(rc.diagnostics(20));
                throw e;
            } finally {
                rc.close();
            }
        }
        BenchTable t = table(rounds, diskBytes, setupMs);
        t.add("planned switchover: longest gap between replies", "ms", switchover[0], "crm_resource --move --promoted: handover, promote, restore");
        t.add("planned switchover: guest paused (last checkpoint to running)", "ms", switchover[1], "from the two ha-node logs");
        t.print(System.out);
        t.writeJson(json);
        System.out.println("JSON: " + json.toAbsolutePath());
        return 0;
    }

    private Round round(int i, PacemakerCluster cluster, RemusCluster rc, IncrClient client) throws Exception {
        String victim = rc.protectedPrimary("vma").orElseThrow();
        long kill = System.nanoTime();
        cluster.killNode(victim);
        PacemakerCluster.waitUntil(STEP, "vma answers after the kill", () -> client.repliesSince(kill) > 10 || client.failure() != null);
        if (client.failure() != null) throw new IllegalStateException("client failed: " + client.failure());
        long failover = (client.takeoverReplyAfter(kill) - kill) / 1_000_000;
        String[] now = rc.awaitProtected("vma", STEP);
        long reprotect = (System.nanoTime() - kill) / 1_000_000;
        JsonNode spare = rc.status("vma", now[0]).orElseThrow().path("resync");
        progress("round " + i + ": kill -9 " + victim + " -> first reply after " + failover + " ms, protected again (" + now[0] + " -> "
                + now[1] + ") after " + reprotect + " ms");

        long start = System.nanoTime();
        cluster.startNode(victim);
        cluster.awaitFormed(now[0], 3, Duration.ofSeconds(60));
        // As an operator would after a fence: forget the old failures, so placement is by preference only.
        cluster.exec(now[0], "crm_resource", "--cleanup", "-r", "vma-clone");
        // Failback of the backup: Pacemaker moves it by itself only to a node preferred over the
        // spare's stickiness plus its promotion score; otherwise the operator bans the spare for
        // a moment, as done here.
        String spareNode = now[1];
        boolean banned = false;
        try {
            PacemakerCluster.waitUntil(Duration.ofSeconds(15), "the backup moved back to " + victim,
                    () -> rc.syncedBackup("vma").filter(victim::equals).isPresent());
        } catch (java.util.concurrent.TimeoutException e) {
            progress("round " + i + ": failback of the backup to " + victim + " by banning " + spareNode + " for a moment");
            cluster.exec(now[0], "crm_resource", "--ban", "-r", "vma-clone", "-N", spareNode);
            banned = true;
        }
        try {
            PacemakerCluster.waitUntil(STEP, "the backup moved back to " + victim, () -> rc.syncedBackup("vma").filter(victim::equals).isPresent()
                    && rc.protectedPrimary("vma").isPresent());
        } finally {
            if (banned) cluster.exec(now[0], "crm_resource", "--clear", "-r", "vma-clone");
        }
        long rejoin = (System.nanoTime() - start) / 1_000_000;
        JsonNode back = rc.status("vma", rc.protectedPrimary("vma").orElseThrow()).orElseThrow().path("resync");
        progress("round " + i + ": " + victim + " rejoined and resynced " + back.path("chunks").asLong() + " chunks ("
                + back.path("bytes").asLong() / 1024 + " KiB" + (back.path("fullCopy").asBoolean() ? ", FULL COPY" : "") + ") in "
                + back.path("seedMillis").asLong() + " ms of seed; " + rejoin + " ms from its start");
        return new Round(victim, now[0], failover, reprotect, spare.path("fullCopy").asBoolean(), spare.path("bytes").asLong(),
                spare.path("seedMillis").asLong(), back.path("chunks").asLong(), back.path("bytes").asLong(), back.path("fullCopy").asBoolean(),
                back.path("seedMillis").asLong(), rejoin, client.acked());
    }

    /** crm_resource --move of the Promoted role to the backup's node; returns {reply gap ms, guest pause ms}. */
    private double[] switchover(PacemakerCluster cluster, RemusCluster rc, IncrClient client) throws Exception {
        String from = rc.protectedPrimary("vma").orElseThrow();
        String to = rc.syncedBackup("vma").orElseThrow();
        long t0 = System.nanoTime();
        cluster.exec(from, "crm_resource", "--move", "--promoted", "-r", "vma-clone", "-N", to);
        try {
            PacemakerCluster.waitUntil(STEP, "vma primary on " + to, () -> rc.protectedPrimary("vma").filter(to::equals).isPresent());
        } finally {
            cluster.exec(to, "crm_resource", "--clear", "-r", "vma-clone");
        }
        Thread.sleep(1000);
        double gap = client.longestGapMillisSince(t0);
        long paused = rc.status("vma", to).orElseThrow().path("takeoverMillis").asLong();
        progress("switchover " + from + " -> " + to + ": longest gap between replies " + Math.round(gap) + " ms; promote took " + paused + " ms");
        return new double[]{gap, handoverPauseMillis(rc, from, to)};
    }

    /** From the old primary's "handover: final checkpoint" line to the new one's "TAKEOVER: running" line. */
    private static double handoverPauseMillis(RemusCluster rc, String from, String to) {
        try {
            java.time.LocalTime a = lastTime(rc.log("vma", from), "handover: final checkpoint");
            java.time.LocalTime b = lastTime(rc.log("vma", to), "TAKEOVER: running");
            return a == null || b == null ? Double.NaN : java.time.Duration.between(a, b).toMillis();
        } catch (java.io.IOException e) {
            return Double.NaN;
        }
    }

    private static java.time.LocalTime lastTime(Path log, String marker) throws java.io.IOException {
        java.time.LocalTime t = null;
        for (String line : Files.readAllLines(log)) {
            if (line.contains(marker) && line.length() > 12) t = java.time.LocalTime.parse(line.substring(0, 12));
        }
        return t;
    }

    private BenchTable table(List<Round> rounds, long diskBytes, long setupMs) {
        BenchTable t = new BenchTable("jremus bench cluster").env("tokenMs", tokenMs).env("failovers", rounds.size())
                .env("diskMiB", diskBytes >> 20).env("guestRamMiB", 256).env("clone", "promotable, clone-max 2, notify");
        t.add("cluster formed + VM protected", "ms", setupMs, "3 nodes, first promote boots the VM, seed of the backup");
        for (int i = 0; i < rounds.size(); i++) {
            Round r = rounds.get(i);
            String n = "round " + (i + 1) + " ";
            t.add(n + "failover (kill -9 " + r.killed() + " -> first reply)", "ms", r.failoverMs(),
                    "through Corosync detection, fencing, the spare's start, the promote and the restore");
            t.add(n + "re-protected (kill -> committed backup)", "ms", r.reprotectMs(), "new backup seeded live on the spare");
            t.add(n + "spare seed disk", "KiB", r.spareDiskBytes() / 1024.0, r.spareFullCopy() ? "full copy (spare's disk never synced)" : "partial resync");
            t.add(n + "rejoin resync disk", "KiB", r.rejoinBytes() / 1024.0, diskBytes / 1024.0, "whole disk",
                    r.rejoinFullCopy() ? "FULL COPY" : r.rejoinChunks() + " chunks of 64 KiB; the rest already in sync");
            t.add(n + "rejoin seed (RAM + disk)", "ms", r.rejoinSeedMs(), r.spareSeedMs(), "spare's seed",
                    "RAM (256 MiB) dominates both; restart to resynced: " + r.rejoinMs() + " ms");
        }
        t.env("prefillMiB", prefillMiB);
        long[] f = rounds.stream().mapToLong(Round::failoverMs).sorted().toArray();
        t.add("failover median", "ms", f[f.length / 2], "of " + f.length);
        return t;
    }

    /** A benchmark that could not complete: one line, exit status 1 (not a user mistake). */
    static final class BenchFailure extends java.io.IOException {
        BenchFailure(String message) {
            super(message);
        }
    }

    private static void progress(String line) {
        System.err.println("bench cluster: " + line);
    }
}
