package io.jremus.cli;

import io.jremus.cli.bench.HostCpuLoop;
import io.jremus.cli.image.CommandRunner;
import io.jremus.cli.image.ImageBuildException;
import io.jremus.cli.image.TestGuestImageBuilder;
import io.jremus.vmm.Vm;
import io.jremus.vmm.config.ConfigException;
import io.jremus.vmm.config.ConfigOverrides;
import io.jremus.vmm.config.VmConfig;
import io.jremus.vmm.config.VmConfigLoader;
import io.jremus.vmm.console.ConsoleLines;
import io.jremus.vmm.memory.DirtyPages;
import io.jremus.vmm.vcpu.StopReason;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code jremus demo}: the main job, at the stage the project has reached. Today (the VMM
 * stage) it builds the test guest if needed, boots it on two vCPUs with a CPU workload on
 * each, and runs the checkpoint epoch loop that Remus will use (pause every vCPU →
 * harvest dirty pages → resume, at 40 Hz) without a backup yet, then checks that the guest
 * computed exactly what the host computes. Replication and failover join this command when the
 * Remus issue lands.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Boot the test guest and run the checkpoint epoch loop (pause, harvest, resume) against it.")
public final class DemoCommand implements Callable<Integer> {
    private static final Pattern CPU_RESULT = Pattern.compile("cpu: (?:cpu\\d+ )?iters=(\\d+) result=0x([0-9a-f]+) ms=(\\d+)");

    @Option(names = "--interval-ms", description = "Epoch interval (default 25 ms = 40 Hz, as in the Remus paper).", defaultValue = "25")
    int intervalMs;
    @Option(names = "--iters", description = "Guest CPU-loop iterations per vCPU.", defaultValue = "3000000000")
    long iters;
    @Option(names = "--json", description = "Print the summary as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (intervalMs < 10 || intervalMs > 10_000) throw new UserException("--interval-ms must be 10..10000");
        Path elf;
        try {
            elf = new TestGuestImageBuilder(Main.home(), CommandRunner.processes(), System.err).build(false);
        } catch (ImageBuildException e) {
            throw new UserException(e.getMessage());
        }
        VmConfig cfg;
        try {
            cfg = VmConfigLoader.fromFlags(new ConfigOverrides("demo", "256M", 2, elf.toString(), null,
                    "work=cpu cpus=2 iters=" + iters, "none"), Path.of("").toAbsolutePath());
        } catch (ConfigException e) {
            throw new UserException(e.getMessage());
        }
        ConsoleLines console = new ConsoleLines();
        Histogram pause = new Histogram(3);
        long epochs = 0;
        long dirtyTotal = 0;
        long dirtyMax = 0;
        StopReason stop;
        long t0 = System.nanoTime();
        if (!json) System.out.println("jremus demo: booting the test guest (2 vCPUs) and checkpointing every " + intervalMs + " ms...");
        try (Vm vm = Vm.create(cfg, new Vm.Options(console))) {
            vm.start();
            if (console.await(l -> l.equals("jremus-guest: ready"), 60, TimeUnit.SECONDS) == null) {
                throw new IllegalStateException("the guest did not boot:\n" + console.transcript());
            }
            vm.pause();
            vm.harvestDirtyPages(); // boot-time pages: the seed a backup would get first
            vm.resume();
            long next = System.nanoTime();
            while (!vm.machine().stopped().isDone()) {
                next += intervalMs * 1_000_000L;
                long sleep = next - System.nanoTime();
                if (sleep > 0) TimeUnit.NANOSECONDS.sleep(sleep);
                long pausedAt = System.nanoTime();
                vm.pause();
                DirtyPages d = vm.harvestDirtyPages();
                long ns = System.nanoTime() - pausedAt; // the guest-visible pause: stop + harvest
                vm.resume();
                long paused = ns;
                pause.recordValue(Math.max(1, paused));
                epochs++;
                dirtyTotal += d.count();
                dirtyMax = Math.max(dirtyMax, d.count());
                if (!json && epochs % 40 == 0) {
                    System.out.printf("  epoch %5d: %6d dirty pages, pause %6.0f us%n", epochs, d.count(), paused / 1e3);
                }
            }
            stop = vm.awaitStop(10, TimeUnit.SECONDS);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        String expected = String.format("%016x", HostCpuLoop.result(iters));
        int correct = 0;
        for (String l : console.texts()) {
            Matcher m = CPU_RESULT.matcher(l);
            if (m.find() && m.group(2).equals(expected)) correct++;
        }
        boolean passed = correct == 2 && stop.kind() == StopReason.Kind.POWER_OFF && stop.code() == 0;
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("epochs", epochs);
        s.put("seconds", Math.round(seconds * 100) / 100.0);
        s.put("achievedHz", Math.round(epochs / seconds * 10) / 10.0);
        s.put("pauseP50us", pause.getValueAtPercentile(50) / 1000.0);
        s.put("pauseP99us", pause.getValueAtPercentile(99) / 1000.0);
        s.put("dirtyPagesPerEpochMean", epochs == 0 ? 0 : dirtyTotal / epochs);
        s.put("dirtyPagesPerEpochMax", dirtyMax);
        s.put("guestResultsCorrect", correct + "/2");
        s.put("guestStop", stop.detail());
        s.put("check", passed ? "passed" : "FAILED");
        if (json) {
            System.out.println(new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(s));
        } else {
            System.out.println("jremus demo summary (VMM stage: no backup yet, replication comes with the Remus issue)");
            s.forEach((k, v) -> System.out.printf("  %-24s %s%n", k, v));
        }
        return passed ? 0 : 1;
    }
}
