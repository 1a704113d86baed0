package io.jremus.cli;

import io.jremus.cluster.witness.WitnessClient;
import io.jremus.replication.remus.Primary;
import io.jremus.replication.remus.RemusOptions;
import io.jremus.replication.stream.tls.SecureChannels;
import io.jremus.vmm.Vm;
import io.jremus.vmm.config.VmConfig;
import io.jremus.vmm.vcpu.StopReason;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code jremus primary VM.toml --backup HOST:PORT ...}: boots the VM and protects it with Remus.
 * Exit status: the guest's power-off status; 4 when the arbiter refused (another instance is
 * active and this one stopped).
 */
@Command(name = "primary", mixinStandardHelpOptions = true,
        description = "Run a VM protected by Remus: checkpoint it continuously to a backup.")
public final class PrimaryCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "VM.toml", description = "VM config.")
    Path config;
    @Option(names = "--backup", required = true, paramLabel = "HOST:PORT", description = "The backup's replication address.")
    String backup;
    @Option(names = "--interval-ms", defaultValue = "25", description = "Epoch interval, 10..10000 ms (default ${DEFAULT-VALUE} = 40 Hz).")
    long intervalMs;
    @Option(names = "--early", description = "Also checkpoint as soon as output is waiting (cuts output-commit latency).")
    boolean early;
    @Option(names = "--min-interval-ms", defaultValue = "5", description = "Early mode: least time between checkpoints (default ${DEFAULT-VALUE}).")
    long minIntervalMs;
    @Option(names = "--stats", paramLabel = "FILE", description = "Write checkpoint statistics as JSON here, every second and at exit.")
    Path stats;
    @Mixin
    RemusCommon common;

    @Override
    public Integer call() throws Exception {
        if (intervalMs < 10 || intervalMs > 10_000) throw new UserException("--interval-ms must be 10..10000");
        VmConfig cfg = RemusCommon.load(config);
        RemusOptions options = common.options(cfg).withInterval(Duration.ofMillis(intervalMs))
                .withEarly(early, Duration.ofMillis(minIntervalMs));
        SecureChannels tls = SecureChannels.forNode(common.keys, common.node);
        WitnessClient arbiter = new WitnessClient(WitnessCommand.parseHostPort(common.witness), Duration.ofMillis(common.leaseMs));
        try (Vm vm = Vm.create(cfg, Vm.Options.defaults())) {
            RemusCommon.status("primary: connecting to the backup at " + backup);
            Socket socket = connect(tls, WitnessCommand.parseHostPort(backup));
            Primary primary = new Primary(vm, socket, arbiter, options, RemusCommon::status);
            vm.start();
            Thread writer = null;
            if (stats != null) {
                writer = Thread.ofPlatform().daemon(true).start(() -> {
                    while (!Thread.currentThread().isInterrupted()) {
                        RemusCommon.writeJson(stats, summary(primary, "running"));
                        try {
                            Thread.sleep(1000);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                });
            }
            Primary.Outcome outcome = primary.run();
            StopReason reason = vm.awaitStop(Long.MAX_VALUE / 4, TimeUnit.SECONDS);
            if (writer != null) {
                writer.interrupt();
                RemusCommon.writeJson(stats, summary(primary, outcome.name()));
            }
            RemusCommon.status("primary: " + outcome + "; " + primary.stats().snapshot());
            if (outcome == Primary.Outcome.REFUSED) return 4;
            return RunCommand.exitStatus(reason);
        }
    }

    private static Socket connect(SecureChannels tls, java.net.InetSocketAddress addr) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                return tls.connect(addr, Duration.ofSeconds(5));
            } catch (java.io.IOException e) {
                if (System.nanoTime() > deadline) throw new UserException("cannot reach the backup at " + addr + ": " + e.getMessage());
                Thread.sleep(200);
            }
        }
    }

    private static Map<String, Object> summary(Primary p, String state) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("state", state);
        m.putAll(p.stats().snapshot());
        return m;
    }
}
