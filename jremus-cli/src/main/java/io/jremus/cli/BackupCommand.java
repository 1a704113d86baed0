package io.jremus.cli;

import io.jremus.cluster.witness.WitnessClient;
import io.jremus.replication.remus.Backup;
import io.jremus.replication.stream.tls.SecureChannels;
import io.jremus.vmm.Vm;
import io.jremus.vmm.config.VmConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import javax.net.ssl.SSLServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * {@code jremus backup VM.toml --listen HOST:PORT ...}: receives a primary's checkpoints and
 * takes over when it is lost and the witness agrees. Exit status: the taken-over guest's
 * power-off status; 0 when the primary finished cleanly; 4 when the arbiter refused.
 */
@Command(name = "backup", mixinStandardHelpOptions = true,
        description = "Receive a protected VM's checkpoints; take over when its primary is lost.")
public final class BackupCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "VM.toml", description = "VM config (this host's disk and TAP).")
    Path config;
    @Option(names = "--listen", required = true, paramLabel = "HOST:PORT", description = "Replication address to listen on.")
    String listen;
    @Option(names = "--serial", paramLabel = "stdout|none|FILE", description = "Guest console after a takeover (default: the config's).")
    String serial;
    @Option(names = "--withhold-acks-after", hidden = true, defaultValue = "0",
            description = "Test hook: acknowledge no checkpoint after this epoch.")
    long withholdAcksAfter;
    @Mixin
    RemusCommon common;

    @Override
    public Integer call() throws Exception {
        VmConfig cfg = RemusCommon.load(config);
        if (serial != null) {
            cfg = cfg.withOverrides(new io.jremus.vmm.config.ConfigOverrides(null, null, null, null, null, null, serial),
                    Path.of("").toAbsolutePath());
        }
        SecureChannels tls = SecureChannels.forNode(common.keys, common.node);
        SSLServerSocket server = tls.listen(WitnessCommand.parseHostPort(listen));
        WitnessClient arbiter = new WitnessClient(WitnessCommand.parseHostPort(common.witness), Duration.ofMillis(common.leaseMs));
        Backup.PeerAcceptor acceptor = new Backup.PeerAcceptor() {
            @Override
            public Socket accept() throws java.io.IOException {
                return tls.accept(server, Duration.ofSeconds(5));
            }

            @Override
            public String describe() {
                return listen + " (mutual TLS)";
            }
        };
        Backup backup = new Backup(cfg, acceptor, arbiter, common.options(cfg), RemusCommon::status, Vm.Options.defaults(), withholdAcksAfter);
        Backup.Outcome outcome = backup.run();
        RemusCommon.status("backup: " + outcome);
        return switch (outcome) {
            case REFUSED -> 4;
            case TOOK_OVER, TOOK_OVER_RUNNING, PRIMARY_FINISHED, ABANDONED -> 0;
        };
    }
}
