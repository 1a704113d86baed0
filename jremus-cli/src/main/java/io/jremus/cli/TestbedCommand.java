package io.jremus.cli;

import io.jremus.cli.testbed.Testbed;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code jremus testbed up|down|status}: the one-machine world of the Remus tests (namespaces
 * client, host-a, host-b, witness and the guest's segment; see {@link Testbed} for the drawing).
 */
@Command(name = "testbed", mixinStandardHelpOptions = true,
        description = "Build, show or tear down the one-machine test world (network namespaces; needs root).")
public final class TestbedCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "up|down|status", description = "up: build (idempotent); down: tear down whatever exists; status: list it.")
    String action;
    @Option(names = "--name", defaultValue = Testbed.DEFAULT_NAME, description = "Prefix of the namespaces (default ${DEFAULT-VALUE}).")
    String name;

    @Override
    public Integer call() throws Exception {
        Testbed t;
        try {
            t = Testbed.of(name);
        } catch (IllegalArgumentException e) {
            throw new UserException(e.getMessage());
        }
        switch (action) {
            case "up" -> {
                requireNamespaces();
                Testbed.up(name);
                System.out.println("testbed " + name + " is up:");
                printTopology(t);
            }
            case "down" -> {
                requireNamespaces();
                List<String> warnings = t.down();
                warnings.forEach(w -> System.err.println("jremus: warning: " + w));
                System.out.println("testbed " + name + " is down");
            }
            case "status" -> {
                Testbed.Status s = t.status();
                if (s.empty()) {
                    System.out.println("testbed " + name + ": nothing exists");
                    return 1;
                }
                System.out.println("testbed " + name + ": " + (s.complete() ? "complete" : "PARTIAL (run 'testbed down' or 'testbed up')"));
                for (Map.Entry<String, String> e : s.existing().entrySet()) {
                    System.out.println("  " + e.getKey());
                    e.getValue().lines().forEach(l -> System.out.println("      " + l));
                }
                s.missing().forEach(m -> System.out.println("  missing: " + m));
                s.cut().forEach(l -> System.out.println("  cut: " + l));
                return s.complete() ? 0 : 1;
            }
            default -> throw new UserException("testbed: expected up, down or status, got '" + action + "'");
        }
        return 0;
    }

    private static void requireNamespaces() {
        String why = Testbed.unavailableReason();
        if (why != null) throw new UserException("testbed: " + why);
    }

    private static void printTopology(Testbed t) {
        System.out.printf("  %-22s seg0 %s/24 (guest %s on the same segment)%n", t.clientNs(), Testbed.CLIENT_IP, Testbed.GUEST_IP);
        System.out.printf("  %-22s br-guest %s/24, the guest segment's bridge%n", t.segmentNs(), Testbed.SEGMENT_IP);
        System.out.printf("  %-22s br0 %s/24 + TAP %s, repl0 %s/24, wit0 %s/24%n", t.hostANs(), Testbed.HOST_A_SEGMENT_IP, Testbed.TAP,
                Testbed.HOST_A_REPL_IP, Testbed.HOST_A_WITNESS_IP);
        System.out.printf("  %-22s br0 %s/24 + TAP %s, repl0 %s/24, wit0 %s/24%n", t.hostBNs(), Testbed.HOST_B_SEGMENT_IP, Testbed.TAP,
                Testbed.HOST_B_REPL_IP, Testbed.HOST_B_WITNESS_IP);
        System.out.printf("  %-22s br-wit %s/24%n", t.witnessNs(), Testbed.WITNESS_IP);
    }
}
