package io.jremus.cli.cluster;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The namespaces that make one running node: its mount namespace (new at every start) and its
 * network namespace, each named by its nsfs inode number ({@code /proc/PID/ns/mnt -> mnt:[N]}).
 * Every process of a node (corosync, the pacemaker daemons, resource agents and what they start,
 * commands entered with nsenter) is in both. A process counts as the node's only if it is in both:
 * the kernel reuses freed namespace numbers, so a mount-namespace id recorded for a node that has
 * since died may name someone else's namespace; the node's network namespace, which the cluster
 * holds open, rules those out. This JVM's namespaces (the host's) and PID 1's (where readable:
 * a more privileged PID 1 hides them) never match.
 */
public record NodeNamespaces(String node, long mnt, long net) {

    private static final Path PROC = Path.of("/proc");

    /** The process's namespace id of {@code kind} ("mnt", "net"), or empty if it is gone, a zombie, or unreadable. */
    static OptionalLong id(String pid, String kind) {
        try {
            String t = Files.readSymbolicLink(PROC.resolve(pid).resolve("ns").resolve(kind)).toString(); // mnt:[4026532301]
            int a = t.indexOf('['), b = t.indexOf(']');
            if (!t.startsWith(kind + ":") || a < 0 || b < a) return OptionalLong.empty();
            return OptionalLong.of(Long.parseLong(t.substring(a + 1, b)));
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }

    /** True if these are this JVM's (the host's) or PID 1's namespaces, which must never be treated as a node's. */
    boolean isProtected() {
        for (String who : List.of("1", "self")) {
            if (id(who, "mnt").orElse(-1) == mnt || id(who, "net").orElse(-1) == net) return true;
        }
        return false;
    }

    /** Live PIDs of each of {@code nodes} (protected ones are skipped). */
    public static Map<NodeNamespaces, List<Long>> processes(Collection<NodeNamespaces> nodes) throws IOException {
        Map<Long, NodeNamespaces> byMnt = new java.util.HashMap<>();
        for (NodeNamespaces n : nodes) {
            if (!n.isProtected()) byMnt.put(n.mnt, n);
        }
        Map<NodeNamespaces, List<Long>> found = new LinkedHashMap<>();
        if (byMnt.isEmpty()) return found;
        String me = Long.toString(ProcessHandle.current().pid());
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(PROC, p -> isNumber(p.getFileName().toString()))) {
            for (Path p : dir) {
                String pid = p.getFileName().toString();
                if (pid.equals("1") || pid.equals(me)) continue;
                OptionalLong m = id(pid, "mnt");
                if (m.isEmpty()) continue;
                NodeNamespaces n = byMnt.get(m.getAsLong());
                if (n != null && id(pid, "net").orElse(-1) == n.net) {
                    found.computeIfAbsent(n, k -> new ArrayList<>()).add(Long.parseLong(pid));
                }
            }
        }
        return found;
    }

    private static boolean isNumber(String s) {
        if (s.isEmpty()) return false;
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') return false;
        }
        return true;
    }

    /**
     * SIGKILLs every process of {@code nodes} and waits until none is left (zombies count as gone:
     * they have no namespaces any more). Scans again after each round, so children forked while
     * killing are caught too. Returns how many processes were signalled.
     */
    static int killAll(Collection<NodeNamespaces> nodes, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Set<Long> signalled = new HashSet<>();
        while (true) {
            Map<NodeNamespaces, List<Long>> left = processes(nodes);
            if (left.isEmpty()) return signalled.size();
            if (System.nanoTime() > deadline) throw new IOException("processes survive SIGKILL: " + left);
            for (Map.Entry<NodeNamespaces, List<Long>> e : left.entrySet()) {
                for (long pid : e.getValue()) {
                    ProcessHandle h = ProcessHandle.of(pid).orElse(null);
                    // re-check after taking the handle, which pins the start time: a PID reused in
                    // between is not signalled
                    String s = Long.toString(pid);
                    if (h == null || id(s, "mnt").orElse(-1) != e.getKey().mnt || id(s, "net").orElse(-1) != e.getKey().net) continue;
                    if (h.destroyForcibly()) signalled.add(pid);
                }
            }
            Thread.sleep(20);
        }
    }
}
