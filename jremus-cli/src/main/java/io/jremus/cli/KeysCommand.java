package io.jremus.cli;

import io.jremus.replication.stream.tls.KeyDirectory;
import io.jremus.replication.stream.tls.KeyToolException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code jremus keys init --dir DIR --nodes a,b,witness}: makes the TLS keys of a cluster's
 * replication links by running the JDK's {@code keytool}: a private CA ({@code ca.p12},
 * {@code ca.crt}), one PKCS#12 keystore per node ({@code NODE.p12}: EC P-256 key, certificate
 * signed by the CA), one truststore holding only the CA ({@code truststore.p12}), and the store
 * password ({@code store-password}, mode 600). Copy {@code NODE.p12}, {@code truststore.p12} and
 * {@code store-password} to node NODE; keep {@code ca.p12} elsewhere. The equivalent keytool
 * commands are listed in {@link KeyDirectory}'s Javadoc.
 */
@Command(name = "keys", mixinStandardHelpOptions = true,
        description = "Make TLS keys for the replication links (mutual TLS 1.3).",
        subcommands = {KeysCommand.Init.class})
public final class KeysCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "init", mixinStandardHelpOptions = true,
            description = {"Create a CA, one keystore per node and a shared truststore in DIR.",
                    "Files: ca.p12, ca.crt, truststore.p12, NODE.p12 and NODE.crt per node, store-password (mode 600)."})
    static final class Init implements Callable<Integer> {
        @Option(names = "--dir", required = true, paramLabel = "DIR", description = "Directory for the keys (created; must not hold keys yet).")
        Path dir;

        @Option(names = "--nodes", required = true, split = ",", paramLabel = "NAME[,NAME...]",
                description = "Node names, e.g. a,b,witness (lower-case letters, digits, '-').")
        List<String> nodes;

        @Option(names = "--validity-days", defaultValue = "3650", paramLabel = "DAYS", description = "Certificate validity (default: ${DEFAULT-VALUE}).")
        int validityDays;

        @Option(names = "--keytool", paramLabel = "FILE", description = "keytool to run (default: the running JDK's).")
        Path keytool;

        @Override
        public Integer call() {
            Path tool = keytool != null ? keytool : KeyDirectory.defaultKeytool();
            List<Path> made;
            try {
                made = KeyDirectory.init(dir.toAbsolutePath(), nodes, tool, validityDays, step -> System.err.println("jremus: keys: " + step));
            } catch (KeyToolException e) {
                throw new UserException("keys init: " + e.getMessage());
            }
            for (Path p : made) {
                System.out.println(p);
            }
            System.out.println("Copy NODE.p12, truststore.p12 and store-password to each node; keep ca.p12 off the nodes.");
            return 0;
        }
    }
}
