package io.jremus.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jremus.cli.control.ControlClient;
import io.jremus.vmm.Vm;
import io.jremus.vmm.config.ConfigException;
import io.jremus.vmm.config.ConfigOverrides;
import io.jremus.vmm.config.VmConfig;
import io.jremus.vmm.config.VmConfigLoader;
import io.jremus.vmm.snapshot.SnapshotException;
import io.jremus.vmm.snapshot.SnapshotProgress;
import io.jremus.vmm.snapshot.SnapshotRestore;
import io.jremus.vmm.vcpu.StopReason;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/** {@code jremus snapshot create|restore}: whole-VM snapshots (docs/snapshot-format.md). */
@Command(name = "snapshot", mixinStandardHelpOptions = true, description = "Take a snapshot of a running VM, or start a VM from one.",
        subcommands = {SnapshotCommand.Create.class, SnapshotCommand.Restore.class})
public final class SnapshotCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Exit status when a snapshot is refused (corrupt, mismatched) or cannot be written. */
    static final int EXIT_SNAPSHOT = 4;

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Snapshot a VM running under `jremus run --control SOCKET` into a file.")
    static final class Create implements Callable<Integer> {
        @Option(names = "--socket", required = true, paramLabel = "SOCKET", description = "The VMM's control socket.")
        Path socket;
        @Option(names = "--out", required = true, paramLabel = "FILE", description = "Snapshot file to write.")
        Path out;
        @Option(names = "--incremental", description = "Only the pages dirtied since this VMM's previous snapshot (a DIFF).")
        boolean incremental;
        @Option(names = "--leave-paused", description = "Leave the VM paused afterwards.")
        boolean leavePaused;

        @Override
        public Integer call() {
            var req = new ObjectMapper().createObjectNode().put("cmd", "snapshot").put("path", out.toAbsolutePath().toString())
                    .put("incremental", incremental).put("leavePaused", leavePaused);
            JsonNode r = ControlClient.request(socket, req, pct -> System.err.printf("snapshot: %3d%%%n", pct));
            if (!r.path("ok").asBoolean()) {
                System.err.println("jremus: snapshot failed: " + r.path("error").asText());
                return EXIT_SNAPSHOT;
            }
            System.out.printf("%s snapshot #%d written to %s: %.1f MiB, %d data pages, %d zero pages; VM paused %d ms%s%n",
                    r.path("kind").asText(), r.path("sequence").asInt(), r.path("path").asText(), r.path("bytes").asLong() / 1048576.0,
                    r.path("dataPages").asLong(), r.path("zeroPages").asLong(), r.path("pausedMillis").asLong(),
                    r.path("paused").asBoolean() ? " (left paused)" : "");
            return 0;
        }
    }

    @Command(name = "restore", mixinStandardHelpOptions = true,
            description = "Start a VM from a snapshot (a DIFF finds its ancestors beside it). Without VM.toml the config recorded in the snapshot is used.")
    static final class Restore implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "FILE", description = "Snapshot file (the newest of a chain).")
        Path file;
        @Parameters(index = "1", arity = "0..1", paramLabel = "VM.toml", description = "VM config; default: the one in the snapshot.")
        Path config;
        @Option(names = "--serial", paramLabel = "stdout|none|FILE", description = "Where the guest console goes.")
        String serial;
        @Option(names = "--control", paramLabel = "SOCKET", description = "Serve the control protocol on this Unix socket.")
        Path control;
        @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "0", description = "Stop the VM after this many seconds (0: never).")
        long timeoutSeconds;

        @Override
        public Integer call() throws Exception {
            ConfigOverrides o = ConfigOverrides.none().withSerial(serial);
            VmConfig cfg = null;
            if (config != null) {
                try {
                    cfg = VmConfigLoader.load(config).withOverrides(o, Path.of("").toAbsolutePath());
                } catch (ConfigException e) {
                    throw new UserException(e.getMessage());
                }
            }
            Vm vm;
            long t0 = System.nanoTime();
            try {
                vm = SnapshotRestore.restore(file, cfg, o, Vm.Options.defaults(),
                        SnapshotProgress.everyPercent(5, pct -> System.err.printf("restore: %3d%%%n", pct)));
            } catch (SnapshotException e) {
                System.err.println("jremus: snapshot " + file + " refused: " + e.getMessage());
                return EXIT_SNAPSHOT;
            }
            System.err.printf("jremus: restored %s in %d ms; resuming the guest%n", file, (System.nanoTime() - t0) / 1_000_000);
            long deadline = timeoutSeconds > 0 ? System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds) : Long.MAX_VALUE;
            try (vm) {
                StopReason reason = RunCommand.runUntilStopped(vm, deadline, timeoutSeconds, control);
                return RunCommand.exitStatus(reason);
            }
        }
    }
}
