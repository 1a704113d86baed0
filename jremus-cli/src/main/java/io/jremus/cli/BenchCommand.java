package io.jremus.cli;

import io.jremus.cli.bench.NetBench;
import io.jremus.cli.bench.RemusBench;
import io.jremus.cli.bench.SnapshotBench;
import io.jremus.cli.bench.VmmBench;
import picocli.CommandLine.Command;

/** {@code jremus bench ...}: benchmarks that print a table and write JSON. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks (table on stdout, JSON file).",
        subcommands = {VmmBench.class, NetBench.class, SnapshotBench.class, RemusBench.class, io.jremus.cli.bench.ClusterBench.class})
public final class BenchCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
