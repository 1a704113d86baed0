package io.jremus.cli.bench;

import io.jremus.cli.Main;
import io.jremus.cli.UserException;
import io.jremus.cli.testbed.GuestServer;
import io.jremus.cli.testbed.NetTestbed;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code jremus bench net}: the test guest's Redis-protocol server driven by Debian's
 * redis-benchmark from a client namespace, on jremus and on QEMU (-M microvm, the same ELF, the
 * same TAP and bridge), one after the other in the same run. Reports requests per second and
 * p50/p99 latency for GET, SET and INCR, and bulk TCP throughput (SET of 64 KiB values).
 */
@Command(name = "net", mixinStandardHelpOptions = true,
        description = "Benchmark guest networking: redis-benchmark against the test guest on jremus and on QEMU.")
public final class NetBench implements Callable<Integer> {
    private static final List<String> TESTS = List.of("GET", "SET", "INCR");

    @Option(names = "--requests", description = "Requests per redis-benchmark test.", defaultValue = "20000")
    int requests;
    @Option(names = "--clients", description = "Parallel connections (redis-benchmark -c).", defaultValue = "50")
    int clients;
    @Option(names = "--json", description = "Where to write the JSON results.", defaultValue = "target/bench/net.json")
    Path json;
    @Option(names = "--guest", description = "Test guest ELF (default: guest/build/jremus-guest.elf, built if missing).")
    Path guest;

    /** One redis-benchmark test's figures. */
    record Figures(double rps, double p50ms, double p99ms) {
    }

    @Override
    public Integer call() throws Exception {
        String why = NetTestbed.unavailableReason();
        if (why != null) throw new UserException("bench net needs network namespaces: " + why);
        if (!Files.isExecutable(Path.of("/usr/bin/redis-benchmark"))) {
            throw new UserException("bench net needs redis-benchmark: apt-get install redis-tools");
        }
        Path elf = guest != null ? guest : GuestImages.testGuest(Main.home());
        boolean qemu = QemuGuest.available();
        Map<GuestServer.Vmm, Map<String, Figures>> results = new EnumMap<>(GuestServer.Vmm.class);
        Map<GuestServer.Vmm, Double> bulk = new EnumMap<>(GuestServer.Vmm.class);
        Path dir = Files.createTempDirectory("jremus-bench-net");
        try (NetTestbed bed = NetTestbed.create()) {
            for (GuestServer.Vmm vmm : qemu ? List.of(GuestServer.Vmm.JREMUS, GuestServer.Vmm.QEMU) : List.of(GuestServer.Vmm.JREMUS)) {
                System.err.println("bench: " + vmm.name().toLowerCase() + ": booting the guest...");
                try (GuestServer server = GuestServer.start(vmm, bed, Main.home(), elf, dir, vmm.name().toLowerCase(), "work=redis", null)) {
                    server.awaitConsole(l -> l.startsWith("redis: listening"), 120);
                    System.err.println("bench: " + vmm.name().toLowerCase() + ": redis-benchmark -n " + requests + " -c " + clients + "...");
                    results.put(vmm, redisBenchmark(bed, "get,set,incr", requests, 3));
                    Map<String, Figures> big = redisBenchmark(bed, "set", Math.max(500, requests / 20), 65536);
                    bulk.put(vmm, big.get("SET").rps() * 65536 / 1e6);
                }
            }
        }
        BenchTable t = new BenchTable("jremus bench net").env("guest", elf.toString()).env("requests", requests).env("clients", clients);
        for (String test : TESTS) {
            Figures ours = results.get(GuestServer.Vmm.JREMUS).get(test);
            Figures theirs = qemu ? results.get(GuestServer.Vmm.QEMU).get(test) : new Figures(Double.NaN, Double.NaN, Double.NaN);
            t.add(test + " throughput", "req/s", ours.rps(), theirs.rps(), "qemu", "redis-benchmark -c " + clients);
            t.add(test + " latency p50", "ms", ours.p50ms(), theirs.p50ms(), "qemu", "");
            t.add(test + " latency p99", "ms", ours.p99ms(), theirs.p99ms(), "qemu", "");
        }
        t.add("TCP bulk throughput", "MB/s", bulk.get(GuestServer.Vmm.JREMUS), qemu ? bulk.get(GuestServer.Vmm.QEMU) : Double.NaN, "qemu",
                "SET of 64 KiB values, guest -> lwIP -> virtio-net RX path");
        t.print(System.out);
        t.writeJson(json);
        System.out.println("\nJSON written to " + json.toAbsolutePath());
        return 0;
    }

    /** Runs redis-benchmark --csv in the client namespace and parses rps and latency per test. */
    static Map<String, Figures> redisBenchmark(NetTestbed bed, String tests, int n, int valueSize) throws Exception {
        NetTestbed.Result r = bed.inClient(600, "redis-benchmark", "-h", NetTestbed.GUEST_IP, "-n", String.valueOf(n),
                "-c", "50", "-d", String.valueOf(valueSize), "-t", tests, "--csv");
        if (r.status() != 0) throw new IllegalStateException("redis-benchmark failed: " + r.output());
        return parseCsv(r.output());
    }

    static Map<String, Figures> parseCsv(String csv) {
        Map<String, Figures> out = new HashMap<>();
        String[] header = null;
        for (String line : csv.split("\n")) {
            String[] f = line.strip().replace("\"", "").split(",");
            if (f.length < 2) continue;
            if (f[0].equals("test")) {
                header = f;
                continue;
            }
            if (header == null) continue;
            Map<String, String> row = new HashMap<>();
            for (int i = 0; i < Math.min(header.length, f.length); i++) row.put(header[i], f[i]);
            out.put(f[0], new Figures(num(row.get("rps")), num(row.get("p50_latency_ms")), num(row.get("p99_latency_ms"))));
        }
        if (out.isEmpty()) throw new IllegalStateException("no results in redis-benchmark output:\n" + csv);
        return out;
    }

    private static double num(String s) {
        try {
            return s == null ? Double.NaN : Double.parseDouble(s);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }
}
