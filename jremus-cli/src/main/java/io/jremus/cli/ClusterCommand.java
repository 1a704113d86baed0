package io.jremus.cli;

import io.jremus.cli.cluster.PacemakerCluster;
import io.jremus.cli.cluster.RemusCluster;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code jremus cluster up|down}: a 3-node Pacemaker + Corosync cluster in namespaces on this
 * machine, with protected test-guest VMs as {@code ocf:jremus:vm} promotable clones (what the
 * cluster tests and {@code bench cluster} use), left running to look at with crm_mon.
 */
@Command(name = "cluster", mixinStandardHelpOptions = true,
        description = "Start or remove a 3-node Pacemaker cluster in namespaces with protected test VMs (needs root).")
public final class ClusterCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "up|down|kill|partition|heal|start",
            description = "up: build it and start the VMs; down: remove everything it made; kill NODE: power it off (kill -9 "
                    + "of all its processes); partition/heal NODE: cut/restore its ring link; start NODE: boot a killed node again.")
    String action;
    @Parameters(index = "1", arity = "0..1", paramLabel = "NODE", description = "node1, node2 or node3.")
    String node;
    @Option(names = "--prefix", defaultValue = "jrdev", description = "Namespace prefix (default ${DEFAULT-VALUE}).")
    String prefix;
    @Option(names = "--vms", defaultValue = "2", description = "Protected VMs, 1 or 2 (default ${DEFAULT-VALUE}).")
    int vms;

    @Override
    public Integer call() throws Exception {
        String why = PacemakerCluster.unavailableReason();
        if (why != null) throw new UserException("cluster: " + why);
        Path repo = Path.of(System.getProperty("jremus.home", ".")).toAbsolutePath();
        PacemakerCluster cluster = PacemakerCluster.builder().prefix(prefix).ocfRoot(repo.resolve("ha/ocf")).build();
        switch (action) {
            case "up" -> {
                if (vms < 1 || vms > 2) throw new UserException("--vms must be 1 or 2");
                Path elf = repo.resolve("guest/build/jremus-guest.elf");
                if (!Files.exists(elf)) throw new UserException("no test guest at " + elf + ": run ./jremus image build");
                cluster.up();
                RemusCluster rc = new RemusCluster(cluster, repo, elf, 64L << 20);
                rc.addVm(new RemusCluster.VmSpec("vma", "10.78.0.2", "jtap0", 7790, List.of("node1", "node2", "node3")));
                if (vms == 2) rc.addVm(new RemusCluster.VmSpec("vmb", "10.78.0.4", "jtap1", 7791, List.of("node3", "node1", "node2")));
                System.out.println("cluster " + prefix + " is up; VM files and ha-node logs in " + rc.work());
                System.out.println("  look:   nsenter -t $(cat " + cluster.baseDir().resolve("run/node1.holder") + ") -n -m -u crm_mon -1");
                System.out.println("  client: ip netns exec " + cluster.clientNs() + " redis-cli -h 10.78.0.2 INCR n");
                System.out.println("  remove: ./jremus cluster down --prefix " + prefix);
                // Keep the cluster: this process must not tear it down on exit.
                Runtime.getRuntime().halt(0);
            }
            case "down" -> {
                List<String> warnings = cluster.down();
                warnings.forEach(w -> System.err.println("jremus: warning: " + w));
                RemusCluster.deleteWork(prefix);
                System.out.println("cluster " + prefix + " is down");
            }
            case "kill", "partition", "heal", "start" -> {
                if (node == null || !cluster.nodeNames().contains(node)) throw new UserException("cluster " + action + ": name a node: " + cluster.nodeNames());
                switch (action) {
                    case "kill" -> cluster.killNode(node);
                    case "partition" -> cluster.partition(node);
                    case "heal" -> cluster.heal(node);
                    default -> cluster.startNode(node);
                }
                System.out.println(node + ": " + action + " done");
                Runtime.getRuntime().halt(0);
            }
            default -> throw new UserException("cluster: expected up, down, kill, partition, heal or start, got '" + action + "'");
        }
        return 0;
    }
}
