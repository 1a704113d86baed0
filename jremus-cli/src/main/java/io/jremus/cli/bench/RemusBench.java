package io.jremus.cli.bench;

import io.jremus.cli.Main;
import io.jremus.cli.UserException;
import io.jremus.cli.testbed.NetTestbed;
import io.jremus.cli.testbed.RemusWorld;
import io.jremus.cli.testbed.Testbed;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code jremus bench remus}: the test guest (Redis-protocol server, log on a disk) unprotected
 * ({@code jremus run}) and protected by Remus at several checkpoint rates and in early mode, side
 * by side in one run on the one-machine testbed. Per setup: achieved vs configured checkpoint
 * rate, pause p50/p99, bytes per epoch and compression ratio (idle and under a 50 MiB/s memory
 * churn), the guest's CPU-loop speed (DEBUG WORKLOAD cpu), redis-benchmark throughput and p50
 * latency; then failover runs (kill -9 → first reply on the same connection, count checked).
 */
@Command(name = "remus", mixinStandardHelpOptions = true,
        description = "Benchmark Remus: unprotected vs protected at 10/25/40/100 Hz and early mode; failover time.")
public final class RemusBench implements Callable<Integer> {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");
    private static final Pattern DONE = Pattern.compile("workload_done:(\\d+)");

    @Option(names = "--rates", split = ",", defaultValue = "10,25,40,100", description = "Checkpoint rates in Hz (default ${DEFAULT-VALUE}).")
    List<Integer> rates;
    @Option(names = "--failovers", defaultValue = "5", description = "Failover runs (kill -9 at a random instant; default ${DEFAULT-VALUE}).")
    int failovers;
    @Option(names = "--requests", defaultValue = "3000", description = "redis-benchmark requests per test (default ${DEFAULT-VALUE}).")
    int requests;
    @Option(names = "--phase-seconds", defaultValue = "4", description = "Length of the idle, CPU and memory phases (default ${DEFAULT-VALUE}).")
    int phaseSeconds;
    @Option(names = "--quick", description = "Fewer rates (25, 100), 2 failovers, shorter phases.")
    boolean quick;
    @Option(names = "--name", defaultValue = "jrbench", description = "Testbed name (default ${DEFAULT-VALUE}).")
    String name;
    @Option(names = "--json", defaultValue = "target/bench/remus.json", description = "Where to write the JSON results.")
    Path json;

    /** What one setup measured. */
    record Setup(String name, double configuredHz, Map<String, Object> idle, Map<String, Object> churn, double cpuItersPerSec,
                 double memPagesPerSec, Map<String, NetBench.Figures> redis, Map<String, Object> end) {
    }

    @Override
    public Integer call() throws Exception {
        String why = RemusWorld.unavailableReason();
        if (why != null) throw new UserException("bench remus: " + why);
        if (!Files.isExecutable(Path.of("/usr/bin/redis-benchmark"))) throw new UserException("bench remus needs redis-benchmark: apt-get install redis-tools");
        if (quick) {
            rates = List.of(25, 100);
            failovers = Math.min(failovers, 2);
            phaseSeconds = Math.min(phaseSeconds, 2);
            requests = Math.min(requests, 1000);
        }
        Path elf = GuestImages.testGuest(Main.home());
        Path dir = Files.createTempDirectory("jremus-bench-remus-");
        say("logs in " + dir);
        List<Setup> setups = new ArrayList<>();
        List<RemusWorld.Failover> runs = new ArrayList<>();
        try (RemusWorld world = RemusWorld.up(RemusWorld.Settings.of(name, dir, Main.home(), elf).withLog(RemusBench::say))) {
            setups.add(unprotected(world));
            for (int hz : rates) setups.add(protectedSetup(world, hz + " Hz", hz, RemusWorld.PairOptions.defaults().interval(1000 / hz)));
            setups.add(protectedSetup(world, "early (25 ms, min 5)", 40, RemusWorld.PairOptions.defaults().interval(25).early(true)));
            Random random = new Random();
            for (int i = 1; i <= failovers; i++) {
                long load = 300 + random.nextInt(2500);
                RemusWorld.Failover f = world.failover(RemusWorld.PairOptions.defaults(), load, 2000);
                runs.add(f);
                say(String.format("failover %d/%d after %d ms of load: %.0f ms kill -> first reply (restore %d ms), %d+%d acked, counter %s",
                        i, failovers, load, f.killToReplyMs(), f.restoreMs(), f.ackedBefore(), f.ackedAfter(),
                        f.passed() ? "exact" : "FAILED: " + f.problem()));
                world.killHost("b");
            }
        } finally {
            say("testbed torn down; logs stay in " + dir);
        }
        BenchTable t = table(setups, runs);
        t.print(System.out);
        t.writeJson(json);
        System.out.println("\nJSON written to " + json.toAbsolutePath());
        boolean allExact = runs.stream().allMatch(RemusWorld.Failover::passed);
        return allExact ? 0 : 1;
    }

    private Setup unprotected(RemusWorld world) throws Exception {
        say("unprotected: jremus run");
        Path disk = world.dir().resolve("plain-disk.img");
        try (var f = new java.io.RandomAccessFile(disk.toFile(), "rw")) {
            f.setLength(64L << 20);
        }
        Path cfg = world.writeConfig("plain", "a", "", disk);
        RemusWorld.Node vm = world.runVm("plain", "a", cfg);
        awaitListening(world.dir().resolve("plain-a.serial"), vm);
        Setup s = measure(world, "unprotected", 0, null);
        world.killHost("a");
        return s;
    }

    private Setup protectedSetup(RemusWorld world, String label, double hz, RemusWorld.PairOptions o) throws Exception {
        say("protected: " + label);
        RemusWorld.Pair pair = world.startPair(o);
        pair.awaitProtected(Duration.ofSeconds(120));
        Setup s = measure(world, label, hz, pair);
        world.killHost("a");
        world.killHost("b");
        return s;
    }

    private Setup measure(RemusWorld world, String label, double hz, RemusWorld.Pair pair) throws Exception {
        cli(world, "PING");
        Thread.sleep(phaseSeconds * 1000L);
        Map<String, Object> idle = pair == null ? Map.of() : awaitFreshStats(pair);
        double cpu = workloadRate(world, "cpu");
        cli(world, "DEBUG", "WORKLOAD", "mem", "50");
        Map<String, Object> churnStart = pair == null ? Map.of() : awaitFreshStats(pair);
        double mem = workloadRate(world, null);
        Map<String, Object> churnEnd = pair == null ? Map.of() : awaitFreshStats(pair);
        cli(world, "DEBUG", "WORKLOAD", "off");
        Map<String, Object> churn = pair == null ? Map.of() : delta(churnStart, churnEnd);
        Map<String, NetBench.Figures> redis = redisBenchmark(world);
        Map<String, Object> end = pair == null ? Map.of() : awaitFreshStats(pair);
        say(String.format("%s: cpu %.3g iters/s, mem %.0f pages/s, GET %.0f rps, idle %s, churn %s", label, cpu, mem,
                redis.getOrDefault("GET", new NetBench.Figures(Double.NaN, Double.NaN, Double.NaN)).rps(), idle, churn));
        return new Setup(label, hz, idle, churn, cpu, mem, redis, end);
    }

    /** Runs the workload (or keeps the running one if {@code mode} is null) for a phase; its rate per second. */
    private double workloadRate(RemusWorld world, String mode) throws Exception {
        if (mode != null) cli(world, "DEBUG", "WORKLOAD", mode);
        Thread.sleep(500);
        long t0 = System.nanoTime();
        long d0 = done(world);
        Thread.sleep(phaseSeconds * 1000L);
        long d1 = done(world);
        double rate = (d1 - d0) / ((System.nanoTime() - t0) / 1e9);
        if (mode != null) cli(world, "DEBUG", "WORKLOAD", "off");
        return rate;
    }

    private static long done(RemusWorld world) throws Exception {
        Matcher m = DONE.matcher(cli(world, "INFO"));
        if (!m.find()) throw new IllegalStateException("INFO has no workload_done");
        return Long.parseLong(m.group(1));
    }

    private Map<String, NetBench.Figures> redisBenchmark(RemusWorld world) throws Exception {
        NetTestbed.Result r = world.inClient(900, "redis-benchmark", "-h", Testbed.GUEST_IP, "-n", String.valueOf(requests), "-c", "50",
                "-t", "get,set,incr", "--csv");
        if (r.status() != 0) throw new IllegalStateException("redis-benchmark failed: " + r.output());
        return NetBench.parseCsv(r.output());
    }

    private static String cli(RemusWorld world, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("redis-cli", "-h", Testbed.GUEST_IP));
        cmd.addAll(List.of(args));
        NetTestbed.Result r = world.inClient(60, cmd.toArray(String[]::new));
        if (r.status() != 0 || r.output().startsWith("ERR") || r.output().contains("Could not connect")) {
            throw new IllegalStateException("redis-cli " + String.join(" ", args) + ": " + r.output());
        }
        return r.output();
    }

    /** The stats file is rewritten every second: wait for a new version so a phase's figures are its own. */
    private static Map<String, Object> awaitFreshStats(RemusWorld.Pair pair) throws Exception {
        long before = Files.exists(pair.statsFile()) ? Files.getLastModifiedTime(pair.statsFile()).toMillis() : 0;
        long deadline = System.currentTimeMillis() + 3000;
        while (System.currentTimeMillis() < deadline) {
            if (Files.exists(pair.statsFile()) && Files.getLastModifiedTime(pair.statsFile()).toMillis() > before) break;
            Thread.sleep(50);
        }
        return pair.stats();
    }

    /** Per-epoch figures between two cumulative statistics snapshots. */
    private static Map<String, Object> delta(Map<String, Object> a, Map<String, Object> b) {
        Map<String, Object> m = new LinkedHashMap<>();
        double epochs = num(b, "epochs") - num(a, "epochs");
        double bytes = num(b, "bytesPerEpochMean") * num(b, "epochs") - num(a, "bytesPerEpochMean") * num(a, "epochs");
        double pages = num(b, "pagesSent") - num(a, "pagesSent");
        m.put("epochs", epochs);
        m.put("bytesPerEpochMean", epochs > 0 ? bytes / epochs : Double.NaN);
        m.put("pagesPerEpoch", epochs > 0 ? pages / epochs : Double.NaN);
        m.put("compressionRatio", bytes > 0 ? pages * 4096 / bytes : Double.NaN);
        return m;
    }

    private static double num(Map<String, Object> m, String k) {
        Object v = m.get(k);
        return v instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    private static void awaitListening(Path serial, RemusWorld.Node vm) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(serial) && Files.readString(serial, StandardCharsets.ISO_8859_1).contains("redis: listening")) return;
            if (!vm.alive()) break;
            Thread.sleep(50);
        }
        throw new IllegalStateException("the unprotected guest did not start serving\n" + vm.log());
    }

    private BenchTable table(List<Setup> setups, List<RemusWorld.Failover> runs) {
        BenchTable t = new BenchTable("jremus bench remus").env("requests", requests).env("phaseSeconds", phaseSeconds)
                .env("guest", "test guest work=redis, 256M, 1 vCPU, log on a 64 MiB disk");
        Setup base = setups.get(0);
        for (Setup s : setups) {
            String p = s.name() + ": ";
            if (s != base) {
                t.add(p + "checkpoint rate achieved", "Hz", num(s.end(), "achievedHz"), s.configuredHz(), "configured", "whole run, idle + load");
                t.add(p + "pause p50", "us", num(s.end(), "pauseP50us"), "guest-visible pause per checkpoint, whole run");
                t.add(p + "pause p99", "us", num(s.end(), "pauseP99us"), "");
                t.add(p + "bytes/epoch idle", "B", num(s.idle(), "bytesPerEpochMean"), "on the wire (after encoding)");
                t.add(p + "compression idle", "x", num(s.idle(), "compressionRatio"), "raw dirty-page bytes / bytes sent");
                t.add(p + "bytes/epoch, mem 50 MiB/s", "B", num(s.churn(), "bytesPerEpochMean"), "DEBUG WORKLOAD mem 50");
                t.add(p + "pages/epoch, mem 50 MiB/s", "pages", num(s.churn(), "pagesPerEpoch"), "");
                t.add(p + "compression, mem 50 MiB/s", "x", num(s.churn(), "compressionRatio"), "");
            }
            t.add(p + "CPU loop", "it/s", s.cpuItersPerSec(), s == base ? Double.NaN : base.cpuItersPerSec(), s == base ? "" : "unprot.",
                    "DEBUG WORKLOAD cpu (ratio < 1 = slowdown)");
            t.add(p + "mem churn achieved", "pg/s", s.memPagesPerSec(), s == base ? Double.NaN : base.memPagesPerSec(), s == base ? "" : "unprot.",
                    "DEBUG WORKLOAD mem 50 (12800 pages/s asked)");
            for (String test : List.of("GET", "SET", "INCR")) {
                NetBench.Figures f = s.redis().get(test);
                NetBench.Figures b = base.redis().get(test);
                if (f == null) continue;
                t.add(p + test + " throughput", "req/s", f.rps(), s == base || b == null ? Double.NaN : b.rps(), s == base ? "" : "unprot.",
                        "redis-benchmark -c 50 -n " + requests);
                t.add(p + test + " latency p50", "ms", f.p50ms(), s == base || b == null ? Double.NaN : b.p50ms(), s == base ? "" : "unprot.", "");
            }
        }
        if (!runs.isEmpty()) {
            double[] ms = runs.stream().mapToDouble(RemusWorld.Failover::killToReplyMs).filter(d -> !Double.isNaN(d)).sorted().toArray();
            double[] restore = runs.stream().mapToDouble(RemusWorld.Failover::restoreMs).filter(d -> d >= 0).sorted().toArray();
            long exact = runs.stream().filter(RemusWorld.Failover::passed).count();
            if (ms.length > 0) {
                t.add("failover kill -> first reply, median", "ms", ms[ms.length / 2], runs.size() + " runs at 40 Hz, same TCP connection");
                t.add("failover kill -> first reply, min", "ms", ms[0], "");
                t.add("failover kill -> first reply, max", "ms", ms[ms.length - 1], "");
            }
            if (restore.length > 0) t.add("failover: backup restore, median", "ms", restore[restore.length / 2], "from the TAKEOVER line");
            t.add("failover runs with exact count and no reset", "runs", exact, runs.size(), "runs", "counter == acknowledged INCRs");
        }
        return t;
    }

    private static void say(String line) {
        System.err.println(LocalTime.now().format(TIME) + " bench remus: " + line);
    }
}
