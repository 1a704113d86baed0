package io.jremus.cli.bench;

import io.jremus.vmm.Vm;
import io.jremus.vmm.VmmException;
import io.jremus.vmm.config.ConfigException;
import io.jremus.vmm.config.ConfigOverrides;
import io.jremus.vmm.config.VmConfig;
import io.jremus.vmm.config.VmConfigLoader;
import io.jremus.vmm.console.ConsoleLines;
import io.jremus.vmm.memory.DirtyPages;
import org.HdrHistogram.Histogram;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs the test guest in this process on jremus and measures one thing per run. */
final class GuestRun {
    static final String READY = "jremus-guest: ready";
    private static final Pattern CPU_RESULT = Pattern.compile("cpu: iters=(\\d+) result=0x([0-9a-f]+) ms=(\\d+)");

    private GuestRun() {
    }

    /** A VM with the test guest, serial captured (not printed). */
    static Vm vm(Path elf, long memMib, int vcpus, String cmdline, ConsoleLines console) {
        try {
            VmConfig cfg = VmConfigLoader.fromFlags(new ConfigOverrides("bench", memMib + "M", vcpus, elf.toString(), null,
                    cmdline, "none"), Path.of("").toAbsolutePath());
            return Vm.create(cfg, new Vm.Options(console));
        } catch (ConfigException e) {
            throw new VmmException(VmmException.Kind.USER, e.getMessage(), e);
        }
    }

    static double bootToReadyMillis(Path elf) throws Exception {
        ConsoleLines console = new ConsoleLines();
        long t0 = System.nanoTime();
        try (Vm vm = vm(elf, 128, 1, "work=cpu iters=1 cpus=1", console)) {
            vm.start();
            ConsoleLines.Line l = console.await(s -> s.contains(READY), 60, TimeUnit.SECONDS);
            if (l == null) throw new IllegalStateException("guest never printed '" + READY + "':\n" + console.transcript());
            vm.awaitStop(30, TimeUnit.SECONDS);
            return (l.nanos() - t0) / 1e6;
        }
    }

    /** The guest's own report of its CPU-loop time (kvmclock), after checking its result. */
    static double cpuLoopMillis(Path elf, long iters) throws Exception {
        ConsoleLines console = new ConsoleLines();
        try (Vm vm = vm(elf, 128, 1, "work=cpu cpus=1 iters=" + iters, console)) {
            vm.start();
            ConsoleLines.Line l = console.await(s -> CPU_RESULT.matcher(s).find(), 600, TimeUnit.SECONDS);
            if (l == null) throw new IllegalStateException("no CPU result:\n" + console.transcript());
            Matcher m = CPU_RESULT.matcher(l.text());
            m.find();
            long result = Long.parseUnsignedLong(m.group(2), 16);
            if (result != HostCpuLoop.result(iters)) {
                throw new IllegalStateException("guest CPU loop result 0x" + m.group(2) + " differs from the host's");
            }
            return Double.parseDouble(m.group(3));
        }
    }

    record Harvest(double medianMicros, long minPages, long maxPages) {
    }

    /**
     * Harvest cost with about {@code pages} dirty pages: the guest churns a region of exactly
     * that many pages as fast as it can; each sample pauses it, times one harvest and resumes.
     */
    static Harvest harvest(Path elf, int pages, int samples) throws Exception {
        long regionMib = Math.max(1, (pages * 4096L + (1 << 20) - 1) >> 20);
        long memMib = Math.max(128, 16 + regionMib * 2 + 64);
        ConsoleLines console = new ConsoleLines();
        try (Vm vm = vm(elf, memMib, 1, "work=mem rate=0 cpus=1 size=" + regionMib, console)) {
            vm.start();
            if (console.await(s -> s.startsWith("mem: "), 120, TimeUnit.SECONDS) == null) {
                throw new IllegalStateException("memory churn did not start:\n" + console.transcript());
            }
            double[] us = new double[samples];
            long min = Long.MAX_VALUE;
            long max = 0;
            for (int i = 0; i < samples + 2; i++) {
                Thread.sleep(Math.max(50, pages / 100));  // let the guest re-dirty its region
                vm.pause();
                long t0 = System.nanoTime();
                DirtyPages d = vm.harvestDirtyPages();
                long t1 = System.nanoTime();
                vm.resume();
                if (i >= 2) { // the first two warm up the JIT and include boot-time pages
                    us[i - 2] = (t1 - t0) / 1e3;
                    min = Math.min(min, d.count());
                    max = Math.max(max, d.count());
                }
            }
            java.util.Arrays.sort(us);
            return new Harvest(us[samples / 2], min, max);
        }
    }

    /** Pause latencies (ns) of a guest busy in its CPU loop. */
    static Histogram pauseLatencies(Path elf, int pauses) throws Exception {
        Histogram h = new Histogram(3);
        ConsoleLines console = new ConsoleLines();
        try (Vm vm = vm(elf, 128, 1, "work=cpu cpus=1 iters=100000000000", console)) {
            vm.start();
            if (console.await(s -> s.contains(READY), 60, TimeUnit.SECONDS) == null) {
                throw new IllegalStateException("guest not ready:\n" + console.transcript());
            }
            for (int i = 0; i < pauses; i++) {
                h.recordValue(vm.pause());
                vm.resume();
                Thread.sleep(0, 200_000);
            }
            vm.stop("benchmark done");
        }
        return h;
    }
}
