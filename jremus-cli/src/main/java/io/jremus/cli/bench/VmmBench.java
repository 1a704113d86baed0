package io.jremus.cli.bench;

import io.jremus.cli.Main;
import io.jremus.vmm.Vm;
import io.jremus.vmm.config.ConfigException;
import io.jremus.vmm.config.ConfigOverrides;
import io.jremus.vmm.config.VmConfig;
import io.jremus.vmm.config.VmConfigLoader;
import io.jremus.vmm.memory.DirtyPages;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code jremus bench vmm}: the VMM's own costs, side by side with QEMU and the host where a
 * reference exists: boot to the test guest's ready marker, the guest's CPU loop against the same
 * loop on the host, the dirty-page harvest with 1,000 and 100,000 dirty pages, and vCPU
 * pause/resume latency. Prints a table and writes JSON.
 */
@Command(name = "vmm", mixinStandardHelpOptions = true, description = "Benchmark the VMM (boot, CPU, dirty harvest, pause) against QEMU and the host.")
public final class VmmBench implements Callable<Integer> {
    private static final Pattern CPU_RESULT = Pattern.compile("cpu: iters=(\\d+) result=0x([0-9a-f]+) ms=(\\d+)");

    @Option(names = "--runs", description = "Repetitions of the boot and CPU-loop measurements (medians reported); harvest samples are twice this.", defaultValue = "5")
    int runs;
    @Option(names = "--cpu-iters", description = "Iterations of the CPU loop.", defaultValue = "1000000000")
    long cpuIters;
    @Option(names = "--pauses", description = "Pause/resume cycles to time.", defaultValue = "1000")
    int pauses;
    @Option(names = "--json", description = "Where to write the JSON results.", defaultValue = "target/bench/vmm.json")
    Path json;
    @Option(names = "--guest", description = "Test guest ELF (default: guest/build/jremus-guest.elf, built if missing).")
    Path guest;

    @Override
    public Integer call() throws Exception {
        Path elf = guest != null ? guest : GuestImages.testGuest(Main.home());
        BenchTable t = new BenchTable("jremus bench vmm").env("guest", elf.toString());
        boolean qemu = QemuGuest.available();
        if (!qemu) System.err.println("bench: " + QemuGuest.BINARY + " not found: QEMU columns left empty (apt-get install qemu-system-x86)");

        System.err.println("bench: boot to ready marker (" + runs + " runs each)...");
        List<Double> ours = new ArrayList<>();
        List<Double> theirs = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            ours.add(GuestRun.bootToReadyMillis(elf));
            if (qemu) {
                QemuGuest.Result r = QemuGuest.run(elf, 128, 1, "work=cpu iters=1 cpus=1", 60);
                long ns = r.nanosUntil(l -> l.contains(GuestRun.READY));
                if (ns > 0) theirs.add(ns / 1e6);
            }
        }
        t.add("boot to ready marker (median)", "ms", median(ours), qemu ? median(theirs) : Double.NaN, "qemu",
                "jremus: VM created in-process (JVM already up); qemu: process exec, -M microvm");

        System.err.println("bench: CPU loop (" + cpuIters + " xorshift iterations, " + runs + " runs each, interleaved)...");
        List<Double> guestMs = new ArrayList<>();
        List<Double> qemuMs = new ArrayList<>();
        List<Double> hostMs = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            guestMs.add(GuestRun.cpuLoopMillis(elf, cpuIters));
            if (qemu) {
                QemuGuest.Result r = QemuGuest.run(elf, 128, 1, "work=cpu cpus=1 iters=" + cpuIters, 600);
                String line = r.firstMatching(l -> CPU_RESULT.matcher(l).find());
                if (line != null) {
                    Matcher m = CPU_RESULT.matcher(line);
                    if (m.find()) qemuMs.add(Double.parseDouble(m.group(3)));
                }
            }
            hostMs.add(HostCpuLoop.millis(cpuIters));
        }
        t.add("cpu loop: guest on jremus vs host (median)", "ms", median(guestMs), median(hostMs), "host",
                "same xorshift64 loop; guest ring 3 is native on this KVM; host loop run in the JVM (JIT)");
        if (qemu) t.add("cpu loop: guest on jremus vs guest on qemu (median)", "ms", median(guestMs), median(qemuMs), "qemu", "same ELF");

        System.err.println("bench: dirty harvest...");
        for (int pages : new int[]{1_000, 100_000}) {
            GuestRun.Harvest h = GuestRun.harvest(elf, pages, Math.max(5, runs * 2));
            t.add("dirty harvest, ~" + pages + " dirty pages (median)", "us", h.medianMicros(),
                    "KVM_GET_DIRTY_LOG + VMM bitmap union; pages/harvest " + h.minPages() + ".." + h.maxPages());
            t.add("dirty harvest per 1000 dirty pages", "us", h.medianMicros() * 1000.0 / Math.max(1, h.minPages()), "");
        }

        System.err.println("bench: pause/resume x" + pauses + " on a busy guest...");
        Histogram pause = GuestRun.pauseLatencies(elf, pauses);
        t.add("vCPU pause latency p50", "us", pause.getValueAtPercentile(50) / 1000.0, "1 vCPU in a CPU loop; kick = immediate_exit + RT signal");
        t.add("vCPU pause latency p99", "us", pause.getValueAtPercentile(99) / 1000.0, "");
        t.add("vCPU pause latency max", "us", pause.getMaxValue() / 1000.0, "");

        t.print(System.out);
        t.writeJson(json);
        System.out.println("\nJSON written to " + json.toAbsolutePath());
        return 0;
    }

    static double median(List<Double> xs) {
        if (xs.isEmpty()) return Double.NaN;
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        return s.get(s.size() / 2);
    }
}
