package io.jremus.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.jremus.cli.image.CommandRunner;
import io.jremus.cli.image.ImageBuildException;
import io.jremus.cli.image.TestGuestImageBuilder;
import io.jremus.cli.testbed.RemusWorld;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code jremus demo}: the main job. Builds the test guest if missing, builds the one-machine
 * world (namespaces client, host-a, host-b, witness, the guest's segment and a replication
 * link), makes TLS keys, starts the witness, a backup on host-b and a primary on host-a running
 * the test guest's Redis-protocol server with its append-only log on a disk, and a client that
 * INCRs over one TCP connection. Mid-run it kills host-a's processes with -9; the backup takes
 * over from its last committed checkpoint; the client carries on on the same connection. The
 * summary says whether every acknowledged INCR counted exactly once. The world is always torn
 * down. Exit status 0 only if the check passed.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Remus end to end: protect the test guest's Redis server, kill its primary host with -9 mid-run,",
                "fail over to the backup, and check that the client's one TCP connection counted every acknowledged INCR once."})
public final class DemoCommand implements Callable<Integer> {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

    @Option(names = "--interval-ms", defaultValue = "25", description = "Epoch interval (default ${DEFAULT-VALUE} ms = 40 Hz, as in the Remus paper).")
    int intervalMs;
    @Option(names = "--early", description = "Early checkpoints when output is waiting.")
    boolean early;
    @Option(names = "--before-seconds", defaultValue = "5", description = "Client load before the kill (default ${DEFAULT-VALUE}).")
    int beforeSeconds;
    @Option(names = "--after-seconds", defaultValue = "5", description = "Client load after the takeover (default ${DEFAULT-VALUE}).")
    int afterSeconds;
    @Option(names = "--name", defaultValue = "jrdemo", description = "Testbed name (namespace prefix, default ${DEFAULT-VALUE}).")
    String name;
    @Option(names = "--keep-logs", description = "Keep the logs directory (printed) instead of deleting it.")
    boolean keepLogs;
    @Option(names = "--json", description = "Print the summary as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (intervalMs < 10 || intervalMs > 10_000) throw new UserException("--interval-ms must be 10..10000");
        String why = RemusWorld.unavailableReason();
        if (why != null) throw new UserException("demo: " + why + " (the demo needs KVM, root and network namespaces)");
        Path elf;
        try {
            elf = new TestGuestImageBuilder(Main.home(), CommandRunner.processes(), System.err).build(false);
        } catch (ImageBuildException e) {
            throw new UserException(e.getMessage());
        }
        Path dir = Files.createTempDirectory("jremus-demo-");
        say("jremus demo: logs in " + dir);
        RemusWorld.Settings settings = RemusWorld.Settings.of(name, dir, Main.home(), elf).withLog(DemoCommand::say);
        Map<String, Object> s = new LinkedHashMap<>();
        boolean passed;
        long t0 = System.nanoTime();
        try (RemusWorld world = RemusWorld.up(settings)) {
            say("starting witness (" + RemusWorld.WITNESS_ADDR + "), backup on host-b, primary on host-a; seeding the backup...");
            RemusWorld.PairOptions o = RemusWorld.PairOptions.defaults().interval(intervalMs).early(early);
            say("client: INCR over one TCP connection for " + beforeSeconds + " s, then kill -9 of host-a's processes");
            RemusWorld.Failover f = world.failover(o, beforeSeconds * 1000L, afterSeconds * 1000L);
            passed = f.passed();
            Map<String, Object> st = f.statsAtKill();
            s.put("epochs", st.get("epochs"));
            s.put("checkpointHz", Map.of("configured", Math.round(1000.0 / intervalMs * 10) / 10.0, "achieved", st.getOrDefault("achievedHz", 0)));
            s.put("pauseP50us", st.get("pauseP50us"));
            s.put("pauseP99us", st.get("pauseP99us"));
            s.put("bytesPerEpoch", st.get("bytesPerEpochMean"));
            s.put("compressionRatio", st.get("compressionRatio"));
            s.put("failoverMs", Double.isNaN(f.killToReplyMs()) ? null : Math.round(f.killToReplyMs()));
            s.put("backupRestoreMs", f.restoreMs());
            s.put("takeoverEpoch", f.takeoverEpoch());
            s.put("clientAckedBefore", f.ackedBefore());
            s.put("clientAckedAfter", f.ackedAfter());
            s.put("resets", f.resets());
            s.put("counter", f.counter());
            s.put("expected", f.expected());
            s.put("check", passed ? "passed" : "FAILED");
            if (f.problem() != null) s.put("problem", f.problem());
        } finally {
            if (!keepLogs) deleteQuietly(dir);
        }
        s.put("seconds", Math.round((System.nanoTime() - t0) / 1e8) / 10.0);
        if (json) {
            System.out.println(new ObjectMapper().writeValueAsString(s));
        } else {
            System.out.println();
            System.out.println("jremus demo summary (Remus at " + intervalMs + " ms epochs" + (early ? ", early mode" : "") + ")");
            System.out.printf("  epochs before the kill   %s (achieved %s Hz)%n", s.get("epochs"), ((Map<?, ?>) s.get("checkpointHz")).get("achieved"));
            System.out.printf("  pause p50 / p99          %s / %s us%n", s.get("pauseP50us"), s.get("pauseP99us"));
            System.out.printf("  bytes per epoch          %s (compression ratio %s)%n", s.get("bytesPerEpoch"), s.get("compressionRatio"));
            System.out.printf("  failover time            %s ms (kill -> first reply; backup restore %s ms, epoch %s)%n",
                    s.get("failoverMs"), s.get("backupRestoreMs"), s.get("takeoverEpoch"));
            System.out.printf("  client                   %s INCRs acked before the kill, %s after, resets: %s%n",
                    s.get("clientAckedBefore"), s.get("clientAckedAfter"), s.get("resets"));
            System.out.printf("  counter check            %s (server %s, acknowledged %s)%n", s.get("check"), s.get("counter"), s.get("expected"));
            if (s.containsKey("problem")) System.out.println("  problem                  " + s.get("problem"));
        }
        return passed ? 0 : 1;
    }

    private static void say(String line) {
        System.err.println(LocalTime.now().format(TIME) + " demo: " + line);
    }

    private static void deleteQuietly(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (java.io.IOException ignored) {
            // a temp directory
        }
    }
}
