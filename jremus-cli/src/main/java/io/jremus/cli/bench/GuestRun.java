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
        try (Vm vm = vm(elf, 128, 1, "work=cpu iters=1", console)) {
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
        try (Vm vm = vm(elf, 128, 1, "work=cpu iters=" + iters, console)) {
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

    record Harvest(double micros, long pages) {
    }

    /** Time of one harvest right after the guest wrote {@code pages} pages once. */
    static Harvest harvest(Path elf, int pages) throws Exception {
        long memMib = Math.max(128, 64 + (pages * 4L) / 1024 + 64);
        ConsoleLines console = new ConsoleLines();
        try (Vm vm = vm(elf, memMib, 1, "work=touch start=32 pages=" + pages + " stride=1 exit=stay", console)) {
            vm.start();
            if (console.await(s -> s.startsWith("touch: done"), 300, TimeUnit.SECONDS) == null) {
                throw new IllegalStateException("touch workload did not finish:\n" + console.transcript());
            }
            vm.pause();
            long t0 = System.nanoTime();
            DirtyPages d = vm.harvestDirtyPages();
            long t1 = System.nanoTime();
            vm.resume();
            return new Harvest((t1 - t0) / 1e3, d.count());
        }
    }

    /** Pause latencies (ns) of a guest busy in its CPU loop. */
    static Histogram pauseLatencies(Path elf, int pauses) throws Exception {
        Histogram h = new Histogram(3);
        ConsoleLines console = new ConsoleLines();
        try (Vm vm = vm(elf, 128, 1, "work=cpu iters=100000000000", console)) {
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
