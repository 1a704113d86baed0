package io.jremus.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.jremus.replication.remus.RemusOptions;
import io.jremus.vmm.config.ConfigException;
import io.jremus.vmm.config.VmConfig;
import io.jremus.vmm.config.VmConfigLoader;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.Map;

/** Options and helpers shared by {@code jremus primary} and {@code jremus backup}. */
final class RemusCommon {
    @Option(names = "--keys", required = true, paramLabel = "DIR", description = "Keys directory made by 'jremus keys init'.")
    Path keys;
    @Option(names = "--node", required = true, paramLabel = "NAME", description = "This node's name (its key in --keys, its name at the witness).")
    String node;
    @Option(names = "--witness", required = true, paramLabel = "HOST:PORT", description = "The witness (arbiter) to ask before acting alone.")
    String witness;
    @Option(names = "--vm-id", paramLabel = "ID", description = "The VM's name at the witness (default: the config's name).")
    String vmId;
    @Option(names = "--peer-timeout-ms", defaultValue = "300", description = "Silence after which the peer is suspected (default ${DEFAULT-VALUE}).")
    long peerTimeoutMs;
    @Option(names = "--lease-ms", defaultValue = "1000", description = "The witness's lease, as configured there (default ${DEFAULT-VALUE}).")
    long leaseMs;

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

    static VmConfig load(Path file) {
        try {
            return VmConfigLoader.load(file);
        } catch (ConfigException e) {
            throw new UserException(e.getMessage());
        }
    }

    RemusOptions options(VmConfig cfg) {
        return RemusOptions.defaults(vmId != null ? vmId : cfg.name(), node).withPeerTimeout(Duration.ofMillis(peerTimeoutMs));
    }

    /** Status lines on stderr, time-stamped: what an operator reads. */
    static void status(String line) {
        System.err.println(LocalTime.now().format(TIME) + " " + line);
    }

    /** Writes a JSON map atomically (write a temp file, rename), for dashboards and tests. */
    static void writeJson(Path file, Map<String, Object> map) {
        try {
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), map);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            status("could not write " + file + ": " + e.getMessage());
        }
    }
}
