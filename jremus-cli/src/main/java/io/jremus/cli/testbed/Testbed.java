package io.jremus.cli.testbed;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The one-machine world of the Remus tests: five network namespaces, private addresses only.
 * <pre>
 *                      NAME-seg: bridge br-guest 10.77.0.1/24 (the guest's segment)
 *              to-client │        to-a │                 to-b │
 *                   seg0 │        seg0 │                 seg0 │
 *   NAME-client ─────────┘  NAME-host-a: br0 10.77.0.11   NAME-host-b: br0 10.77.0.12
 *   seg0 10.77.0.3/24        + TAP jtap0 on br0            + TAP jtap0 on br0
 *                            repl0 10.88.0.1/24 ─────────── repl0 10.88.0.2/24   (replication link)
 *                            wit0 10.99.0.11/24            wit0 10.99.0.12/24
 *                                       │ to-a    to-b │
 *                            NAME-witness: bridge br-wit 10.99.0.1/24
 * </pre>
 * The guest (10.77.0.2, on whichever host's TAP runs it) and the client share one L2 segment, so
 * the guest is reachable at the same address after a failover. The replication link and each
 * host's witness link are separate veth pairs, so a test can {@link #cut} one alone.
 *
 * <p>{@link #up} is idempotent (a complete world is reused, a partial one is torn down and
 * rebuilt); {@link #down} removes whatever exists of it, also after a failed {@code up}, and
 * kills only processes this class started and recorded ({@link #spawn}), by PID and start time.
 * Runtime records live in {@code /run/jremus-testbed/NAME/} (override: system property
 * {@code jremus.testbed.run}).
 */
public final class Testbed implements AutoCloseable {
    public static final String DEFAULT_NAME = "jrtb";
    public static final String GUEST_IP = NetTestbed.GUEST_IP;      // 10.77.0.2
    public static final String SEGMENT_IP = "10.77.0.1";
    public static final String CLIENT_IP = NetTestbed.CLIENT_IP;    // 10.77.0.3
    public static final String HOST_A_SEGMENT_IP = "10.77.0.11";
    public static final String HOST_B_SEGMENT_IP = "10.77.0.12";
    public static final String HOST_A_REPL_IP = "10.88.0.1";
    public static final String HOST_B_REPL_IP = "10.88.0.2";
    public static final String WITNESS_IP = "10.99.0.1";
    public static final String HOST_A_WITNESS_IP = "10.99.0.11";
    public static final String HOST_B_WITNESS_IP = "10.99.0.12";
    /** The guest's TAP, the same name on both hosts (so one VM config serves both). */
    public static final String TAP = NetTestbed.TAP;
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]{0,19}");

    /** A link a test can cut: the namespace and interface whose state decides it. */
    public enum Link {
        /** host-a ↔ host-b replication veth. */
        REPLICATION("host-a", "repl0"),
        /** host-a's attachment to the guest segment. */
        SEGMENT_A("seg", "to-a"),
        /** host-b's attachment to the guest segment. */
        SEGMENT_B("seg", "to-b"),
        /** The client's attachment to the guest segment. */
        SEGMENT_CLIENT("seg", "to-client"),
        /** host-a ↔ witness. */
        WITNESS_A("witness", "to-a"),
        /** host-b ↔ witness. */
        WITNESS_B("witness", "to-b");

        final String nsSuffix;
        final String dev;

        Link(String nsSuffix, String dev) {
            this.nsSuffix = nsSuffix;
            this.dev = dev;
        }
    }

    /** Every interface the world has: namespace suffix, device, address (null for none). */
    private record Iface(String nsSuffix, String dev, String cidr) {
    }

    private static final List<String> NS_SUFFIXES = List.of("seg", "client", "host-a", "host-b", "witness");
    private static final List<Iface> IFACES = List.of(
            new Iface("seg", "br-guest", SEGMENT_IP + "/24"), new Iface("seg", "to-client", null),
            new Iface("seg", "to-a", null), new Iface("seg", "to-b", null),
            new Iface("client", "seg0", CLIENT_IP + "/24"),
            new Iface("host-a", "br0", HOST_A_SEGMENT_IP + "/24"), new Iface("host-a", "seg0", null), new Iface("host-a", TAP, null),
            new Iface("host-b", "br0", HOST_B_SEGMENT_IP + "/24"), new Iface("host-b", "seg0", null), new Iface("host-b", TAP, null),
            new Iface("host-a", "repl0", HOST_A_REPL_IP + "/24"), new Iface("host-b", "repl0", HOST_B_REPL_IP + "/24"),
            new Iface("witness", "br-wit", WITNESS_IP + "/24"), new Iface("witness", "to-a", null), new Iface("witness", "to-b", null),
            new Iface("host-a", "wit0", HOST_A_WITNESS_IP + "/24"), new Iface("host-b", "wit0", HOST_B_WITNESS_IP + "/24"));

    private final String name;
    private final Path runDir;

    private Testbed(String name) {
        this.name = checkName(name);
        this.runDir = Path.of(System.getProperty("jremus.testbed.run", "/run/jremus-testbed")).resolve(name);
    }

    static String checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("testbed name '" + name + "' must be 1..20 of [a-z0-9-], starting with a letter");
        }
        return name;
    }

    /** A handle on the world called {@code name}, without creating anything (for status and down). */
    public static Testbed of(String name) {
        return new Testbed(name);
    }

    /** Builds the world (or reuses a complete one) and returns its handle. */
    public static Testbed up(String name) throws IOException, InterruptedException {
        Testbed t = new Testbed(name);
        t.up();
        return t;
    }

    /** Why namespaces cannot be made here, or null when they can. */
    public static String unavailableReason() {
        return NetTestbed.unavailableReason();
    }

    public String name() {
        return name;
    }

    public String ns(String suffix) {
        if (!NS_SUFFIXES.contains(suffix)) throw new IllegalArgumentException("no namespace '" + suffix + "'; have " + NS_SUFFIXES);
        return name + "-" + suffix;
    }

    public String clientNs() {
        return ns("client");
    }

    public String hostANs() {
        return ns("host-a");
    }

    public String hostBNs() {
        return ns("host-b");
    }

    public String witnessNs() {
        return ns("witness");
    }

    public String segmentNs() {
        return ns("seg");
    }

    /** All namespace names of this world. */
    public List<String> namespaces() {
        return NS_SUFFIXES.stream().map(this::ns).toList();
    }

    private void up() throws IOException, InterruptedException {
        Status s = status();
        if (s.complete()) return;
        if (!s.existing().isEmpty()) down();
        try {
            build();
        } catch (IOException | InterruptedException | RuntimeException e) {
            try {
                down();
            } catch (IOException | InterruptedException | RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private void build() throws IOException, InterruptedException {
        for (String ns : namespaces()) {
            Sh.ipOrThrow("netns", "add", ns);
            Sh.ipOrThrow("-n", ns, "link", "set", "lo", "up");
        }
        String seg = segmentNs(), client = clientNs(), a = hostANs(), b = hostBNs(), w = witnessNs();
        // the guest's segment
        bridge(seg, "br-guest", SEGMENT_IP);
        veth(seg, "to-client", client, "seg0");
        Sh.ipOrThrow("-n", seg, "link", "set", "to-client", "master", "br-guest", "up");
        addr(client, "seg0", CLIENT_IP);
        for (String[] h : new String[][]{{a, "to-a", HOST_A_SEGMENT_IP}, {b, "to-b", HOST_B_SEGMENT_IP}}) {
            bridge(h[0], "br0", h[2]);
            veth(seg, h[1], h[0], "seg0");
            Sh.ipOrThrow("-n", seg, "link", "set", h[1], "master", "br-guest", "up");
            Sh.ipOrThrow("-n", h[0], "link", "set", "seg0", "master", "br0", "up");
            Sh.ipOrThrow("-n", h[0], "tuntap", "add", "dev", TAP, "mode", "tap", "vnet_hdr");
            Sh.ipOrThrow("-n", h[0], "link", "set", TAP, "master", "br0", "up");
        }
        // the replication link
        veth(a, "repl0", b, "repl0");
        addr(a, "repl0", HOST_A_REPL_IP);
        addr(b, "repl0", HOST_B_REPL_IP);
        // the witness links
        bridge(w, "br-wit", WITNESS_IP);
        for (String[] h : new String[][]{{a, "to-a", HOST_A_WITNESS_IP}, {b, "to-b", HOST_B_WITNESS_IP}}) {
            veth(w, h[1], h[0], "wit0");
            Sh.ipOrThrow("-n", w, "link", "set", h[1], "master", "br-wit", "up");
            addr(h[0], "wit0", h[2]);
        }
        Files.createDirectories(runDir.resolve("pids"));
    }

    private static void bridge(String ns, String dev, String ip) throws IOException, InterruptedException {
        Sh.ipOrThrow("-n", ns, "link", "add", dev, "type", "bridge");
        addr(ns, dev, ip);
    }

    private static void veth(String ns, String dev, String peerNs, String peerDev) throws IOException, InterruptedException {
        Sh.ipOrThrow("-n", ns, "link", "add", dev, "type", "veth", "peer", "name", peerDev, "netns", peerNs);
    }

    private static void addr(String ns, String dev, String ip) throws IOException, InterruptedException {
        Sh.ipOrThrow("-n", ns, "addr", "add", ip + "/24", "dev", dev);
        Sh.ipOrThrow("-n", ns, "link", "set", dev, "up");
    }

    /** Takes {@code link} down (both ends lose carrier); addresses stay, so {@link #heal} restores it. */
    public void cut(Link link) throws IOException, InterruptedException {
        Sh.ipOrThrow("-n", ns(link.nsSuffix), "link", "set", link.dev, "down");
    }

    public void heal(Link link) throws IOException, InterruptedException {
        Sh.ipOrThrow("-n", ns(link.nsSuffix), "link", "set", link.dev, "up");
    }

    /** Cuts every link of host-a ({@code "a"}) or host-b ({@code "b"}): segment, replication, witness. */
    public void isolate(String host) throws IOException, InterruptedException {
        for (Link l : hostLinks(host)) cut(l);
    }

    public void rejoin(String host) throws IOException, InterruptedException {
        for (Link l : hostLinks(host)) heal(l);
    }

    private static List<Link> hostLinks(String host) {
        return switch (host) {
            case "a" -> List.of(Link.SEGMENT_A, Link.REPLICATION, Link.WITNESS_A);
            case "b" -> List.of(Link.SEGMENT_B, Link.REPLICATION, Link.WITNESS_B);
            default -> throw new IllegalArgumentException("host must be 'a' or 'b', got '" + host + "'");
        };
    }

    /** Runs a short command in namespace {@code ns} (a full name) and returns status and output. */
    public NetTestbed.Result exec(String ns, long timeoutSeconds, String... cmd) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        full.addAll(List.of(cmd));
        Sh.Result r = Sh.run(timeoutSeconds, full);
        return new NetTestbed.Result(r.status(), r.output());
    }

    /**
     * Starts a long-running command in namespace {@code ns} and records its PID (with its start
     * time, so a recycled PID is never killed) under {@code label}; {@link #down} kills it.
     */
    public Process spawn(String ns, String label, Path log, String... cmd) throws IOException {
        checkName(label);
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        full.addAll(List.of(cmd));
        ProcessBuilder pb = new ProcessBuilder(full).redirectErrorStream(true);
        if (log != null) pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        Process p = pb.start();
        Files.createDirectories(runDir.resolve("pids"));
        Files.writeString(runDir.resolve("pids").resolve(label + ".pid"), p.pid() + " " + startTime(p.pid()) + "\n");
        return p;
    }

    /** Field 22 of /proc/PID/stat (start time in clock ticks), or -1 if the process is gone. */
    static long startTime(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[19]); // fields after "(comm) ": state is field 3, starttime field 22
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** What exists of this world now. */
    public record Status(String name, Map<String, String> existing, List<String> missing, List<Link> cut) {
        /** Every namespace and interface exists (links may be cut). */
        public boolean complete() {
            return missing.isEmpty();
        }

        public boolean empty() {
            return existing.isEmpty();
        }
    }

    public Status status() throws IOException, InterruptedException {
        Sh.Result list = Sh.ip("netns", "list");
        List<String> present = list.output().lines().map(l -> l.split(" ")[0]).toList();
        Map<String, String> existing = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (String ns : namespaces()) {
            if (present.contains(ns)) {
                existing.put(ns, Sh.ip("-n", ns, "-br", "addr").output().strip());
            } else {
                missing.add("namespace " + ns);
            }
        }
        List<Link> cut = new ArrayList<>();
        for (Iface i : IFACES) {
            String ns = ns(i.nsSuffix());
            if (!existing.containsKey(ns)) continue;
            Sh.Result r = Sh.ip("-n", ns, "-o", "link", "show", "dev", i.dev());
            if (!r.ok()) missing.add(ns + " " + i.dev());
        }
        for (Link l : Link.values()) {
            String ns = ns(l.nsSuffix);
            if (!existing.containsKey(ns)) continue;
            Sh.Result r = Sh.ip("-n", ns, "-o", "link", "show", "dev", l.dev);
            if (r.ok() && !r.output().contains(",UP")) cut.add(l);
        }
        return new Status(name, existing, missing, cut);
    }

    /**
     * Removes whatever exists of this world: kills the processes recorded by {@link #spawn} (only
     * those, and only if PID and start time still match), deletes the namespaces (with them every
     * bridge, veth and TAP), and the run directory. Returns warnings (processes left inside a
     * namespace that this class did not start; they are not killed).
     */
    public List<String> down() throws IOException, InterruptedException {
        List<String> warnings = new ArrayList<>();
        Path pids = runDir.resolve("pids");
        if (Files.isDirectory(pids)) {
            try (Stream<Path> files = Files.list(pids)) {
                for (Path f : files.toList()) {
                    killRecorded(f, warnings);
                    Files.deleteIfExists(f);
                }
            }
        }
        Sh.Result list = Sh.ip("netns", "list");
        List<String> present = list.output().lines().map(l -> l.split(" ")[0]).toList();
        for (String ns : namespaces()) {
            if (!present.contains(ns)) continue;
            Sh.Result left = Sh.ip("netns", "pids", ns);
            if (left.ok() && !left.output().isBlank()) {
                warnings.add("processes not started by the testbed are still in " + ns + ": " + left.output().strip().replace('\n', ' ')
                        + " (not killed; the namespace goes away when they exit)");
            }
            Sh.Result r = Sh.ip("netns", "del", ns);
            if (!r.ok()) throw new IOException("ip netns del " + ns + " failed: " + r.output().strip());
        }
        Files.deleteIfExists(pids);
        Files.deleteIfExists(runDir);
        return warnings;
    }

    private static void killRecorded(Path pidFile, List<String> warnings) throws IOException, InterruptedException {
        String[] f = Files.readString(pidFile).strip().split(" ");
        long pid;
        long start;
        try {
            pid = Long.parseLong(f[0]);
            start = Long.parseLong(f[1]);
        } catch (RuntimeException e) {
            warnings.add("ignored unreadable PID file " + pidFile);
            return;
        }
        if (startTime(pid) != start || start < 0) return; // already gone (or the PID was reused)
        ProcessHandle h = ProcessHandle.of(pid).orElse(null);
        if (h == null) return;
        // ip netns exec execs the command, so the recorded PID is the command itself; its children go with it
        h.descendants().forEach(ProcessHandle::destroyForcibly);
        h.destroyForcibly();
        h.onExit().toCompletableFuture().orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).exceptionally(x -> null).join();
    }

    /** Same as {@link #down}, for try-with-resources in tests. */
    @Override
    public void close() throws IOException, InterruptedException {
        down();
    }
}
