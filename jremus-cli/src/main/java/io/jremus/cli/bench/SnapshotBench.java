package io.jremus.cli.bench;

import io.jremus.cli.Main;
import io.jremus.vmm.Vm;
import io.jremus.vmm.console.ConsoleLines;
import io.jremus.vmm.memory.DirtyPages;
import io.jremus.vmm.snapshot.SnapshotProgress;
import io.jremus.vmm.snapshot.SnapshotRestore;
import io.jremus.vmm.snapshot.SnapshotSession;
import io.jremus.vmm.snapshot.VmSnapshotState;
import io.jremus.vmm.snapshot.format.SnapshotWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code jremus bench snapshot}: what a snapshot costs. (1) VM pause time to capture a diff with
 * about 1k, 10k and 100k dirty pages: the guest churns a region of that many pages as fast as it
 * can ({@code work=mem rate=0}); each sample pauses it, harvests the dirty log, captures all
 * vCPU/VM/device state and writes the DIFF file, then resumes; the state capture alone is shown
 * too (what the replication layer pays per epoch besides copying pages). (2) Restore time of a
 * 128 MiB and a 1 GiB guest from a FULL snapshot (open + validate + load memory + set state).
 * (3) Full vs incremental file size. Prints a table, writes JSON.
 */
@Command(name = "snapshot", mixinStandardHelpOptions = true, description = "Benchmark snapshot capture (pause time), restore time and file sizes.")
public final class SnapshotBench implements Callable<Integer> {
    @Option(names = "--samples", description = "Diffs timed per size (median reported).", defaultValue = "7")
    int samples;
    @Option(names = "--json", description = "Where to write the JSON results.", defaultValue = "target/bench/snapshot.json")
    Path json;
    @Option(names = "--dir", description = "Directory for the snapshot files (default: a temporary one under /tmp).")
    Path dir;
    @Option(names = "--guest", description = "Test guest ELF (default: guest/build/jremus-guest.elf, built if missing).")
    Path guest;

    @Override
    public Integer call() throws Exception {
        Path elf = guest != null ? guest : GuestImages.testGuest(Main.home());
        Path work = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("jremus-snapbench");
        BenchTable t = new BenchTable("jremus bench snapshot").env("guest", elf.toString()).env("dir", work.toString());
        try {
            for (int pages : new int[]{1_000, 10_000, 100_000}) {
                System.err.println("bench: diff capture with ~" + pages + " dirty pages (" + samples + " samples)...");
                diffCapture(t, elf, work, pages);
            }
            for (int mib : new int[]{128, 1024}) {
                System.err.println("bench: restore of a " + mib + " MiB guest...");
                restore(t, elf, work, mib);
            }
        } finally {
            if (dir == null) deleteTree(work);
        }
        t.print(System.out);
        t.writeJson(json);
        System.out.println("\nJSON written to " + json.toAbsolutePath());
        return 0;
    }

    private void diffCapture(BenchTable t, Path elf, Path work, int pages) throws Exception {
        long regionMib = Math.max(1, (pages * 4096L + (1 << 20) - 1) >> 20);
        long memMib = Math.max(128, 16 + regionMib * 2 + 64);
        ConsoleLines console = new ConsoleLines();
        try (Vm vm = GuestRun.vm(elf, memMib, 1, "work=mem rate=0 cpus=1 size=" + regionMib, console)) {
            vm.start();
            if (console.await(s -> s.startsWith("mem: "), 120, TimeUnit.SECONDS) == null) {
                throw new IllegalStateException("memory churn did not start:\n" + console.transcript());
            }
            SnapshotSession session = new SnapshotSession(vm);
            vm.pause();
            SnapshotWriter.Result base = session.take(work.resolve("bench-" + pages + "-000.base"), false, SnapshotProgress.NONE);
            vm.resume();
            double[] pauseMs = new double[samples];
            double[] stateUs = new double[samples];
            long minPages = Long.MAX_VALUE;
            long maxPages = 0;
            long diffBytes = 0;
            for (int i = 0; i < samples + 2; i++) {
                Thread.sleep(Math.max(100, pages / 100));
                long t0 = System.nanoTime();
                vm.pause();
                long t1 = System.nanoTime();
                SnapshotWriter.Result r = session.take(work.resolve(String.format("bench-%d-%03d.diff", pages, i + 1)), true, SnapshotProgress.NONE);
                long t2 = System.nanoTime();
                VmSnapshotState ignored = vm.captureState();
                long t3 = System.nanoTime();
                vm.resume();
                if (i >= 2) { // the first two warm up the JIT
                    pauseMs[i - 2] = (t2 - t0) / 1e6;
                    stateUs[i - 2] = (t3 - t2) / 1e3;
                    minPages = Math.min(minPages, r.dataPages() + r.zeroPages());
                    maxPages = Math.max(maxPages, r.dataPages() + r.zeroPages());
                    diffBytes = r.bytes();
                }
                Files.deleteIfExists(r.path());
            }
            // A FULL snapshot of the same guest at the same point, for the size comparison.
            vm.pause();
            Path fullFile = work.resolve("bench-" + pages + "-full.snap");
            SnapshotWriter.Result full = SnapshotWriter.write(fullFile, vm.config(), vm.captureState(), vm.memory(), null, null, SnapshotProgress.NONE);
            vm.resume();
            Files.deleteIfExists(fullFile);
            java.util.Arrays.sort(pauseMs);
            java.util.Arrays.sort(stateUs);
            t.add("diff snapshot, ~" + pages + " dirty pages: VM pause (median)", "ms", pauseMs[samples / 2],
                    "pause + harvest + capture state + write DIFF file (fsync) + resume; pages/diff " + minPages + ".." + maxPages);
            t.add("diff snapshot, ~" + pages + " dirty pages: file size", "MiB", diffBytes / 1048576.0,
                    "FULL snapshot of the same " + memMib + " MiB guest at the same point: " + String.format("%.1f", full.bytes() / 1048576.0) + " MiB");
            if (pages == 1_000) t.add("state capture alone (1 vCPU, median)", "us", stateUs[samples / 2], "KVM GET ioctls + device save; per epoch");
            Files.deleteIfExists(base.path());
            vm.stop("benchmark done");
        }
    }

    private void restore(BenchTable t, Path elf, Path work, int mib) throws Exception {
        ConsoleLines console = new ConsoleLines();
        Path full = work.resolve("bench-restore-" + mib + ".snap");
        // Fill the region with data so the file is not mostly zero markers: 3/4 of RAM, dirtied once.
        long size = mib * 3L / 4;
        SnapshotWriter.Result r;
        try (Vm vm = GuestRun.vm(elf, mib, 1, "work=mem rate=0 cpus=1 size=" + size, console)) {
            vm.start();
            if (console.await(s -> s.startsWith("mem: t="), 180, TimeUnit.SECONDS) == null) {
                throw new IllegalStateException("memory churn did not start:\n" + console.transcript());
            }
            vm.pause();
            long t0 = System.nanoTime();
            r = new SnapshotSession(vm).take(full, false, SnapshotProgress.NONE);
            t.add("full snapshot, " + mib + " MiB guest: write", "ms", (System.nanoTime() - t0) / 1e6,
                    r.dataPages() + " data + " + r.zeroPages() + " zero pages, " + String.format("%.1f", r.bytes() / 1048576.0) + " MiB file");
            vm.stop("benchmark done");
        }
        List<Double> ms = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            long t0 = System.nanoTime();
            try (Vm restored = SnapshotRestore.restore(full, null, null, new Vm.Options(new ConsoleLines()), SnapshotProgress.NONE)) {
                ms.add((System.nanoTime() - t0) / 1e6);
            }
        }
        ms.sort(Comparator.naturalOrder());
        t.add("restore, " + mib + " MiB guest (median of 3)", "ms", ms.get(1),
                "open + validate + create VM + load " + String.format("%.0f", r.bytes() / 1048576.0) + " MiB + set state; page cache warm");
        Files.deleteIfExists(full);
    }

    private static void deleteTree(Path p) throws java.io.IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(x);
        }
    }
}
