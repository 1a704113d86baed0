package io.jremus.cli;

import io.jremus.vmm.VmmException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.nio.file.Path;

/**
 * The {@code jremus} command. Every user-facing failure ends as one line on stderr and a
 * non-zero status; stack traces are kept for bugs (and for {@code --debug}).
 */
@Command(name = "jremus", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Transparent high availability for virtual machines (Remus on KVM).",
        subcommands = {DemoCommand.class, RunCommand.class, PrimaryCommand.class, BackupCommand.class, KeysCommand.class, SnapshotCommand.class, WitnessCommand.class, TestbedCommand.class, ImageCommand.class, BenchCommand.class, ClusterCommand.class, HaNodeCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    /** Exit status for a user mistake (bad config, missing file). */
    public static final int EXIT_USAGE = 2;
    /** Exit status for a host problem (no KVM, no permission, missing tool). */
    public static final int EXIT_HOST = 3;
    /** Exit status for a bug. */
    public static final int EXIT_INTERNAL = 70;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the CLI and returns the exit status (for tests). */
    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, line, parse) -> report(ex));
        return cl.execute(args);
    }

    static int report(Exception ex) {
        Throwable t = ex;
        if (t instanceof VmmException v) {
            System.err.println("jremus: " + v.getMessage());
            return switch (v.kind()) {
                case USER -> EXIT_USAGE;
                case HOST -> EXIT_HOST;
                case GUEST -> 1;
                case INTERNAL -> EXIT_INTERNAL;
            };
        }
        if (t instanceof UserException u) {
            System.err.println("jremus: " + u.getMessage());
            return EXIT_USAGE;
        }
        if (t instanceof java.io.IOException io) {
            // A link, a peer or a file failed: say which, in one line (the log has the detail).
            System.err.println("jremus: " + io.getMessage());
            return 1;
        }
        System.err.println("jremus: internal error: " + t);
        t.printStackTrace();
        return EXIT_INTERNAL;
    }

    /** The repository (or installation) root: where guest/ and the build live. */
    public static Path home() {
        String h = System.getProperty("jremus.home");
        return Path.of(h != null ? h : ".").toAbsolutePath().normalize();
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[]{"jremus " + (v != null ? v : "0.1.0-SNAPSHOT") + " (Java " + Runtime.version() + ")"};
        }
    }
}
