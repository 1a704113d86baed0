package io.jremus.cli.cluster;

import io.jremus.cli.testbed.Sh;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A real Pacemaker + Corosync cluster of N nodes (default 3) on this one machine, for tests and
 * benchmarks. The Debian daemons run unmodified; a node is a set of namespaces:
 * <pre>
 *                       PFX-ring: bridge br-ring (the cluster ring; corosync and replication)
 *                 r1 │              r2 │              r3 │     (partition = port down)
 *      eth0 10.89.0.11      eth0 10.89.0.12      eth0 10.89.0.13
 *   ┌ PFX-node1 ───────┐ ┌ PFX-node2 ───────┐ ┌ PFX-node3 ───────┐  netns + mount/UTS ns
 *   │ br0 10.78.0.11   │ │ br0 10.78.0.12   │ │ br0 10.78.0.13   │  (hostname nodeN)
 *   │  jtap0 jtap1 seg0│ │  jtap0 jtap1 seg0│ │  jtap0 jtap1 seg0│
 *   └─────────────┬────┘ └─────────────┬────┘ └─────────────┬────┘
 *          to-node1 │          to-node2 │          to-node3 │
 *                       PFX-seg: bridge br-guest 10.78.0.1 (the guests' segment)
 *                                  to-client │
 *                       PFX-client: seg0 10.78.0.3
 * </pre>
 * Guests on a node's TAPs use addresses of 10.78.0.0/24 chosen by the tests (10.78.0.2, .4, ...).
 * The segment is separate from the ring, so a node cut off the ring still reaches the client.
 *
 * <p>Each node's init (see {@link ClusterFiles#NODE_INIT}) runs in the node's network namespace and
 * a new mount + UTS namespace, bind-mounts the node's own directories over /etc/corosync,
 * /var/lib/{corosync,pacemaker} and /var/log/{corosync,pacemaker}, mounts fresh tmpfs on /run and
 * /dev/shm, overlays the test fence agent {@code fence_nskill} onto /usr/sbin and (if configured)
 * an OCF provider tree onto /usr/lib/ocf/resource.d, and starts corosync and pacemakerd. Tools run
 * in a node through {@code nsenter -n -m -u} into that init. There is no PID namespace, on
 * purpose: the fence agent on one node kills another node's processes, found through /proc by
 * mount-namespace id, which also works when that node is partitioned.
 *
 * <p>State lives under {@link #baseDir()} ({@code /run/jremus-cluster/PFX} by default; system
 * property {@code jremus.cluster.base} for the parent): node directories, {@code run/} with each
 * node's holder PID and mount-namespace id and the agent's {@code fence.log}. {@link #close} kills
 * every process of every node (by mount namespace, which includes what OCF agents started there),
 * deletes the namespaces and the base directory; it also works after a failed {@link #up} and runs
 * from a shutdown hook if the JVM exits without closing.
 */
public final class PacemakerCluster implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PacemakerCluster.class);

    public static final String DEFAULT_PREFIX = "jrpc";
    public static final String RING_PREFIX = "10.89.0.";
    public static final String SEGMENT_IP = "10.78.0.1";
    public static final String CLIENT_IP = "10.78.0.3";
    /** The persistent TAPs on each node's br0: two, so two protected VMs can share a cluster. */
    public static final List<String> TAPS = List.of("jtap0", "jtap1");
    private static final String SEGMENT_PREFIX = "10.78.0.";
    private static final String MARKER = ".jremus-pacemaker-cluster";
    private static final Pattern PREFIX = Pattern.compile("[a-z][a-z0-9-]{0,11}");
    private static final Pattern SAFE_PATH = Pattern.compile("/[A-Za-z0-9/._-]+");
    private static final Duration EXEC_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration KILL_TIMEOUT = Duration.ofSeconds(15);

    private final String prefix;
    private final List<String> nodes;
    private final Path base;
    private final boolean defaultBase;
    private final int tokenMillis;
    private final String dcDeadtime;
    private final Path ocfRoot;
    private final Path fenceAgent;
    private final Duration formationTimeout;
    private final Set<String> partitioned = new HashSet<>();
    private final Set<NodeNamespaces> namespacesSeen = new HashSet<>();
    private final Map<String, Process> inits = new java.util.HashMap<>();
    private final Thread shutdownHook;
    private boolean hookInstalled;

    private PacemakerCluster(Builder b) {
        this.prefix = b.prefix;
        List<String> n = new ArrayList<>();
        for (int i = 1; i <= b.nodes; i++) n.add("node" + i);
        this.nodes = List.copyOf(n);
        this.defaultBase = b.baseDir == null;
        this.base = b.baseDir != null ? b.baseDir.toAbsolutePath().normalize()
                : Path.of(System.getProperty("jremus.cluster.base", "/run/jremus-cluster")).resolve(prefix);
        if (!SAFE_PATH.matcher(base.toString()).matches() || base.getNameCount() < 2 || base.equals(Path.of("/run"))) {
            throw new IllegalArgumentException("base directory '" + base + "' must be an absolute path of [A-Za-z0-9/._-], two levels deep at least");
        }
        this.tokenMillis = b.tokenMillis;
        this.dcDeadtime = b.dcDeadtime;
        this.ocfRoot = b.ocfRoot;
        this.fenceAgent = b.fenceAgent;
        this.formationTimeout = b.formationTimeout;
        this.shutdownHook = new Thread(this::downQuietly, "pacemaker-cluster-" + prefix + "-cleanup");
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Options; every one has a default. */
    public static final class Builder {
        private String prefix = DEFAULT_PREFIX;
        private int nodes = 3;
        private Path baseDir;
        private int tokenMillis = 1000;
        private String dcDeadtime = "2s";
        private Path ocfRoot;
        private Path fenceAgent;
        private Duration formationTimeout = Duration.ofSeconds(90);

        private Builder() {
        }

        /** Names the namespaces PFX-ring, PFX-seg, PFX-client, PFX-nodeN; also the corosync cluster name. */
        public Builder prefix(String prefix) {
            if (prefix == null || !PREFIX.matcher(prefix).matches()) {
                throw new IllegalArgumentException("prefix '" + prefix + "' must be 1..12 of [a-z0-9-], starting with a letter");
            }
            this.prefix = prefix;
            return this;
        }

        /** Number of nodes, 3 to 9 (two-node clusters need other quorum settings, not provided). */
        public Builder nodes(int nodes) {
            if (nodes < 3 || nodes > 9) throw new IllegalArgumentException("nodes must be 3..9, got " + nodes);
            this.nodes = nodes;
            return this;
        }

        /** Where node state lives (removed on close). Default: {@code ${jremus.cluster.base:-/run/jremus-cluster}/PFX}. */
        public Builder baseDir(Path dir) {
            this.baseDir = dir;
            return this;
        }

        /** corosync {@code totem.token} in ms (default 1000); 0 leaves corosync's default. */
        public Builder tokenMillis(int ms) {
            if (ms < 0) throw new IllegalArgumentException("token must be >= 0");
            this.tokenMillis = ms;
            return this;
        }

        /** Pacemaker {@code dc-deadtime}, seeded before the first start (default 2s). */
        public Builder dcDeadtime(String value) {
            this.dcDeadtime = value;
            return this;
        }

        /** A directory of {@code <provider>/<agent>} OCF agents, added to every node's /usr/lib/ocf/resource.d. */
        public Builder ocfRoot(Path dir) {
            this.ocfRoot = dir;
            return this;
        }

        /**
         * The fence agent to install as /usr/sbin/fence_nskill in the nodes. Default: {@code
         * ha/fence/fence_nskill} of the jremus tree ({@code jremus.home} or {@code jremus.repo.root},
         * else the nearest directory upwards from the working directory that has it).
         */
        public Builder fenceAgent(Path file) {
            this.fenceAgent = file;
            return this;
        }

        /** How long {@link PacemakerCluster#up} waits for all nodes online and a DC (default 90 s). */
        public Builder formationTimeout(Duration timeout) {
            this.formationTimeout = timeout;
            return this;
        }

        public PacemakerCluster build() {
            return new PacemakerCluster(this);
        }
    }

    /** Why a cluster cannot run here, or null when it can (root, iproute2, corosync, pacemaker, nsenter). */
    public static String unavailableReason() {
        if (!"root".equals(System.getProperty("user.name"))) return "the Pacemaker cluster harness needs root (namespaces, mounts)";
        for (String tool : List.of("/usr/sbin/corosync", "/usr/sbin/pacemakerd", "/usr/sbin/crm_mon", "/usr/sbin/cibadmin",
                "/usr/sbin/crm_attribute", "/usr/sbin/corosync-keygen", "/usr/bin/nsenter", "/usr/bin/unshare", "/usr/bin/setsid")) {
            if (!Files.isExecutable(Path.of(tool))) {
                return tool + " is not installed (apt-get install pacemaker pacemaker-cli-utils corosync resource-agents)";
            }
        }
        try {
            Sh.Result r = Sh.ip("netns", "list");
            if (!r.ok()) return "'ip netns' does not work here: " + r.output().strip();
        } catch (IOException e) {
            return "iproute2 ('ip') is not installed";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
        return null;
    }

    // ---------------------------------------------------------------- names and addresses

    public String prefix() {
        return prefix;
    }

    public List<String> nodeNames() {
        return nodes;
    }

    public Path baseDir() {
        return base;
    }

    public String ringNs() {
        return prefix + "-ring";
    }

    public String segmentNs() {
        return prefix + "-seg";
    }

    public String clientNs() {
        return prefix + "-client";
    }

    public String nodeNs(String node) {
        return prefix + "-" + check(node);
    }

    /** Every namespace this cluster creates. */
    public List<String> namespaces() {
        List<String> all = new ArrayList<>(List.of(ringNs(), segmentNs(), clientNs()));
        for (String n : nodes) all.add(nodeNs(n));
        return all;
    }

    /** The node's address on the ring (corosync, and replication between nodes). */
    public String ringIp(String node) {
        return RING_PREFIX + (10 + index(node));
    }

    /** The node's own address on the guests' segment (its br0). */
    public String segmentIp(String node) {
        return SEGMENT_PREFIX + (10 + index(node));
    }

    /** The node's directory: {@code etc-corosync}, {@code var-log-pacemaker/pacemaker.log}, {@code init.log}, ... */
    public Path nodeDir(String node) {
        return base.resolve("nodes").resolve(check(node));
    }

    private Path runDir() {
        return base.resolve("run");
    }

    private int index(String node) {
        int i = nodes.indexOf(node);
        if (i < 0) throw new IllegalArgumentException("no node '" + node + "'; have " + nodes);
        return i + 1;
    }

    private String check(String node) {
        index(node);
        return node;
    }

    // ---------------------------------------------------------------- up

    /**
     * Builds everything from scratch (tearing down what a previous run left with the same prefix)
     * and starts all nodes; returns when every node is online and a DC is elected with quorum.
     * On failure, tears down what it built before rethrowing.
     */
    public synchronized void up() throws IOException, InterruptedException, TimeoutException {
        long t0 = System.nanoTime();
        if (!hookInstalled) {
            Runtime.getRuntime().addShutdownHook(shutdownHook);
            hookInstalled = true;
        }
        try {
            down();
            long t = System.nanoTime();
            buildNetwork();
            log.info("cluster {}: network ({} namespaces) in {}", prefix, namespaces().size(), since(t));
            t = System.nanoTime();
            prepareFiles();
            log.info("cluster {}: node directories, corosync key and seeded CIB in {}", prefix, since(t));
            t = System.nanoTime();
            startNodes(nodes);
            log.info("cluster {}: started corosync + pacemakerd on {} in {}", prefix, nodes, since(t));
            t = System.nanoTime();
            awaitFormed(nodes.getFirst(), nodes.size(), formationTimeout);
            log.info("cluster {}: {} nodes online, DC elected, quorate in {} (up {} in total)", prefix, nodes.size(), since(t), since(t0));
        } catch (IOException | InterruptedException | TimeoutException | RuntimeException e) {
            log.warn("cluster {}: up failed ({}); tearing down. {}", prefix, e.getMessage(), diagnostics(30));
            try {
                down();
            } catch (IOException | InterruptedException | RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private void buildNetwork() throws IOException, InterruptedException {
        for (String ns : namespaces()) {
            Sh.ipOrThrow("netns", "add", ns);
            Sh.ipOrThrow("-n", ns, "link", "set", "lo", "up");
        }
        String ring = ringNs(), seg = segmentNs(), client = clientNs();
        Sh.ipOrThrow("-n", ring, "link", "add", "br-ring", "type", "bridge");
        Sh.ipOrThrow("-n", ring, "link", "set", "br-ring", "up");
        Sh.ipOrThrow("-n", seg, "link", "add", "br-guest", "type", "bridge");
        addr(seg, "br-guest", SEGMENT_IP);
        Sh.ipOrThrow("-n", seg, "link", "add", "to-client", "type", "veth", "peer", "name", "seg0", "netns", client);
        Sh.ipOrThrow("-n", seg, "link", "set", "to-client", "master", "br-guest", "up");
        addr(client, "seg0", CLIENT_IP);
        for (String n : nodes) {
            String ns = nodeNs(n);
            String port = "r" + index(n);
            Sh.ipOrThrow("-n", ring, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns);
            Sh.ipOrThrow("-n", ring, "link", "set", port, "master", "br-ring", "up");
            addr(ns, "eth0", ringIp(n));
            Sh.ipOrThrow("-n", ns, "link", "add", "br0", "type", "bridge");
            addr(ns, "br0", segmentIp(n));
            Sh.ipOrThrow("-n", seg, "link", "add", "to-" + n, "type", "veth", "peer", "name", "seg0", "netns", ns);
            Sh.ipOrThrow("-n", seg, "link", "set", "to-" + n, "master", "br-guest", "up");
            Sh.ipOrThrow("-n", ns, "link", "set", "seg0", "master", "br0", "up");
            for (String tap : TAPS) {
                // persistent TAPs with the flags our VMM opens them with (as in Testbed)
                Sh.ipOrThrow("-n", ns, "tuntap", "add", "dev", tap, "mode", "tap", "vnet_hdr");
                Sh.ipOrThrow("-n", ns, "link", "set", tap, "master", "br0", "up");
            }
        }
    }

    private static void addr(String ns, String dev, String ip) throws IOException, InterruptedException {
        Sh.ipOrThrow("-n", ns, "addr", "add", ip + "/24", "dev", dev);
        Sh.ipOrThrow("-n", ns, "link", "set", dev, "up");
    }

    private void prepareFiles() throws IOException, InterruptedException {
        Files.createDirectories(base);
        Files.writeString(base.resolve(MARKER), "state of the jremus Pacemaker test cluster '" + prefix + "'; removed on close\n");
        Files.createDirectories(runDir());
        Files.writeString(runDir().resolve("fence.log"), "");
        // the namespaces this JVM runs in (the host's): the fence agent never kills in them
        for (String kind : List.of("mnt", "net")) {
            long id = NodeNamespaces.id("self", kind).orElseThrow(() -> new IOException("cannot read /proc/self/ns/" + kind));
            Files.writeString(runDir().resolve("host." + kind + "ns"), id + "\n");
        }
        // the fence agent (and OCF agents) are copied, so the nodes see a fixed snapshot
        Path sbin = Files.createDirectories(base.resolve("sbin"));
        Files.copy(resolveFenceAgent(), sbin.resolve("fence_nskill"), StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(sbin.resolve("fence_nskill"), PosixFilePermissions.fromString("rwxr-xr-x"));
        if (ocfRoot != null) copyOcf(ocfRoot, base.resolve("ocf"));
        Files.writeString(base.resolve("node-init.sh"), ClusterFiles.NODE_INIT);
        Path key = base.resolve("authkey");
        hostOrThrow(List.of("corosync-keygen", "-l", "-k", key.toString()), Map.of());
        Path cib = seedCib();
        String conf = ClusterFiles.corosyncConf(prefix, nodes, nodes.stream().map(this::ringIp).toList(), tokenMillis);

        UserPrincipalLookupService users = FileSystems.getDefault().getUserPrincipalLookupService();
        UserPrincipal hacluster = users.lookupPrincipalByName("hacluster");
        GroupPrincipal haclient = users.lookupPrincipalByGroupName("haclient");
        for (String n : nodes) {
            Path d = nodeDir(n);
            Path etc = Files.createDirectories(d.resolve("etc-corosync"));
            Files.createDirectories(d.resolve("var-lib-corosync"));
            Files.createDirectories(d.resolve("var-log-corosync"));
            Path logPcmk = Files.createDirectories(d.resolve("var-log-pacemaker"));
            Path libPcmk = Files.createDirectories(d.resolve("var-lib-pacemaker"));
            Files.writeString(etc.resolve("corosync.conf"), conf);
            Files.copy(key, etc.resolve("authkey"), StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(etc.resolve("authkey"), PosixFilePermissions.fromString("r--------"));
            own(logPcmk, hacluster, haclient, "rwxrwx---");
            for (String sub : List.of("cib", "pengine", "blackbox", "cores")) {
                own(Files.createDirectories(libPcmk.resolve(sub)), hacluster, haclient, "rwxr-x---");
            }
            Path nodeCib = libPcmk.resolve("cib/cib.xml");
            Files.copy(cib, nodeCib, StandardCopyOption.REPLACE_EXISTING);
            own(nodeCib, hacluster, haclient, "rw-------");
        }
    }

    private static void own(Path p, UserPrincipal user, GroupPrincipal group, String mode) throws IOException {
        PosixFileAttributeView v = Files.getFileAttributeView(p, PosixFileAttributeView.class);
        v.setOwner(user);
        v.setGroup(group);
        v.setPermissions(PosixFilePermissions.fromString(mode));
    }

    private static void copyOcf(Path from, Path to) throws IOException {
        if (!Files.isDirectory(from)) throw new IOException("OCF root " + from + " is not a directory of <provider>/<agent>");
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path dst = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(dst);
                } else {
                    Files.copy(p, dst, StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(dst, PosixFilePermissions.fromString("rwxr-xr-x"));
                }
            }
        }
    }

    private Path resolveFenceAgent() throws IOException {
        if (fenceAgent != null) {
            if (!Files.isRegularFile(fenceAgent)) throw new IOException("fence agent " + fenceAgent + " does not exist");
            return fenceAgent;
        }
        List<Path> roots = new ArrayList<>();
        for (String prop : List.of("jremus.home", "jremus.repo.root")) {
            String v = System.getProperty(prop);
            if (v != null && !v.isBlank()) roots.add(Path.of(v));
        }
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) roots.add(d);
        for (Path r : roots) {
            Path f = r.resolve("ha/fence/fence_nskill");
            if (Files.isRegularFile(f)) return f;
        }
        throw new IOException("cannot find ha/fence/fence_nskill (set -Djremus.home=<jremus tree> or use fenceAgent(...))");
    }

    /** The initial CIB, built offline so dc-deadtime and fencing apply from the very first start. */
    private Path seedCib() throws IOException, InterruptedException {
        Path cib = base.resolve("seed-cib.xml");
        ExecResult empty = host(List.of("cibadmin", "--empty"), Map.of(), EXEC_TIMEOUT);
        if (!empty.ok()) throw new IOException("cibadmin --empty failed: " + empty.output());
        Files.writeString(cib, empty.stdout());
        Map<String, String> env = Map.of("CIB_file", cib.toString());
        for (String[] opt : new String[][]{{"dc-deadtime", dcDeadtime}, {"stonith-enabled", "true"}, {"no-quorum-policy", "stop"}}) {
            hostOrThrow(List.of("crm_attribute", "--type", "crm_config", "--name", opt[0], "--update", opt[1]), env);
        }
        hostOrThrow(List.of("cibadmin", "--create", "-o", "resources", "-X", ClusterFiles.fenceDevice(nodes, runDir().toString())), env);
        return cib;
    }

    // ---------------------------------------------------------------- nodes

    /** Starts the node (no-op if it runs); returns once corosync answers and pacemakerd is launched. */
    public synchronized void startNode(String node) throws IOException, InterruptedException {
        long t = System.nanoTime();
        startNodes(List.of(check(node)));
        log.info("cluster {}: started {} in {}", prefix, node, since(t));
    }

    private void startNodes(List<String> which) throws IOException, InterruptedException {
        List<String> started = new ArrayList<>();
        for (String n : which) {
            if (running(n)) {
                log.info("cluster {}: {} already runs", prefix, n);
                continue;
            }
            for (String rec : List.of(".holder", ".mntns", ".netns", ".corosync", ".pacemakerd")) Files.deleteIfExists(runDir().resolve(n + rec));
            Path initLog = nodeDir(n).resolve("init.log");
            inits.put(n, new ProcessBuilder("setsid", "ip", "netns", "exec", nodeNs(n), "unshare", "--mount", "--uts", "--propagation", "private",
                    "bash", base.resolve("node-init.sh").toString(), n, base.toString())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(initLog.toFile()))
                    .start());
            started.add(n);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        for (String n : started) {
            Path done = runDir().resolve(n + ".pacemakerd");
            Process init = inits.get(n);
            while (!Files.exists(done)) {
                String why = !init.isAlive() ? n + " init exited with status " + init.exitValue()
                        : System.nanoTime() > deadline ? n + " init did not start corosync and pacemakerd within 30 s" : null;
                if (why != null) {
                    Path initLog = nodeDir(n).resolve("init.log");
                    throw new IOException(why + "; " + initLog + ":\n" + tail(initLog, 20));
                }
                Thread.sleep(50);
            }
            namespaces(n).ifPresent(namespacesSeen::add);
        }
    }

    /** The namespaces of the node's latest start (as recorded by its init), or empty if it was never started. */
    public Optional<NodeNamespaces> namespaces(String node) throws IOException {
        try {
            long mnt = Long.parseLong(Files.readString(runDir().resolve(check(node) + ".mntns")).strip());
            long net = Long.parseLong(Files.readString(runDir().resolve(node + ".netns")).strip());
            NodeNamespaces ns = new NodeNamespaces(node, mnt, net);
            return ns.isProtected() ? Optional.empty() : Optional.of(ns);
        } catch (java.nio.file.NoSuchFileException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The namespaces of every start of every node so far (a restarted node has a new mount namespace). */
    public synchronized Set<NodeNamespaces> namespacesSeen() {
        return Set.copyOf(namespacesSeen);
    }

    /** PIDs of the node's processes; empty when it is down. */
    public List<Long> processes(String node) throws IOException {
        Optional<NodeNamespaces> ns = namespaces(node);
        if (ns.isEmpty()) return List.of();
        return NodeNamespaces.processes(List.of(ns.get())).getOrDefault(ns.get(), List.of());
    }

    /** Whether the node has any process left. */
    public boolean running(String node) throws IOException {
        return !processes(node).isEmpty();
    }

    /**
     * Power loss: SIGKILLs every process of the node (its mount namespace: daemons, agents and what
     * they started, nsenter'd commands) and waits until all are gone.
     */
    public synchronized void killNode(String node) throws IOException, InterruptedException {
        long t = System.nanoTime();
        Optional<NodeNamespaces> ns = namespaces(node);
        if (ns.isEmpty()) {
            log.info("cluster {}: {} has no recorded namespaces, nothing to kill", prefix, node);
            return;
        }
        int n = NodeNamespaces.killAll(List.of(ns.get()), KILL_TIMEOUT);
        log.info("cluster {}: killed {} ({} processes) in {}", prefix, node, n, since(t));
    }

    /** Cuts the node off the ring (its bridge port goes down); its guest segment stays up. */
    public synchronized void partition(String node) throws IOException, InterruptedException {
        Sh.ipOrThrow("-n", ringNs(), "link", "set", "r" + index(node), "down");
        partitioned.add(node);
        log.info("cluster {}: partitioned {} off the ring", prefix, node);
    }

    public synchronized void heal(String node) throws IOException, InterruptedException {
        Sh.ipOrThrow("-n", ringNs(), "link", "set", "r" + index(node), "up");
        partitioned.remove(node);
        log.info("cluster {}: healed {}'s ring port", prefix, node);
    }

    public synchronized boolean isPartitioned(String node) {
        return partitioned.contains(check(node));
    }

    // ---------------------------------------------------------------- commands in nodes

    private List<String> enter(String node, List<String> argv) throws IOException {
        Path holder = runDir().resolve(node + ".holder");
        long pid;
        try {
            pid = Long.parseLong(Files.readString(holder).strip());
        } catch (IOException | NumberFormatException e) {
            throw new IOException(node + " is not running (no holder record)");
        }
        Optional<NodeNamespaces> want = namespaces(node);
        if (want.isEmpty() || NodeNamespaces.id(Long.toString(pid), "mnt").orElse(-1) != want.get().mnt()) {
            throw new IOException(node + " is not running (its init, PID " + pid + ", is gone)");
        }
        List<String> cmd = new ArrayList<>(List.of("nsenter", "-t", Long.toString(pid), "-n", "-m", "-u", "--"));
        cmd.addAll(argv);
        return cmd;
    }

    /** Runs {@code argv} inside the node (its network, mount and UTS namespaces), 30 s timeout. */
    public ExecResult exec(String node, String... argv) throws IOException, InterruptedException {
        return exec(node, EXEC_TIMEOUT, argv);
    }

    /** Runs {@code argv} inside the node; a command still running after {@code timeout} is killed ({@link ExecResult#TIMED_OUT}). */
    public ExecResult exec(String node, Duration timeout, String... argv) throws IOException, InterruptedException {
        return host(enter(check(node), List.of(argv)), Map.of(), timeout);
    }

    /**
     * Starts a long-running command inside the node, output (stdout and stderr) appended to {@code
     * logFile}. It lives in the node's mount namespace, so {@link #killNode}, fencing and {@link
     * #close} kill it with the node.
     */
    public Process spawnInNode(String node, Path logFile, String... argv) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(enter(check(node), List.of(argv))).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        cleanEnv(pb.environment());
        return pb.start();
    }

    private static void cleanEnv(Map<String, String> env) {
        env.keySet().removeIf(k -> k.startsWith("CIB_") || k.startsWith("PCMK_") || k.startsWith("OCF_"));
        env.put("LC_ALL", "C");
        env.put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    }

    private static ExecResult host(List<String> cmd, Map<String, String> extraEnv, Duration timeout) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        cleanEnv(pb.environment());
        pb.environment().putAll(extraEnv);
        Process p = pb.start();
        try (var exec = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            Future<String> out = exec.submit(() -> read(p.getInputStream()));
            Future<String> err = exec.submit(() -> read(p.getErrorStream()));
            boolean done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!done) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
            try {
                return new ExecResult(done ? p.exitValue() : ExecResult.TIMED_OUT, out.get(5, TimeUnit.SECONDS),
                        err.get(5, TimeUnit.SECONDS) + (done ? "" : "\n(timed out after " + timeout.toMillis() + " ms)"));
            } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
                throw new IOException(String.join(" ", cmd) + ": cannot read its output", e);
            }
        }
    }

    private static String read(InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void hostOrThrow(List<String> cmd, Map<String, String> env) throws IOException, InterruptedException {
        ExecResult r = host(cmd, env, EXEC_TIMEOUT);
        if (!r.ok()) throw new IOException(String.join(" ", cmd) + " failed (" + r.status() + "): " + r.output());
    }

    // ---------------------------------------------------------------- observing

    /** A node that runs and is not partitioned (the first such), to ask about the cluster. */
    public String viewer() throws IOException {
        for (String n : nodes) {
            if (!isPartitioned(n) && running(n)) return n;
        }
        throw new IOException("no running, connected node in cluster " + prefix);
    }

    /** {@code crm_mon -1 --output-as=xml} as {@code viewer} sees it. */
    public String crmMonXml(String viewer) throws IOException, InterruptedException {
        ExecResult r = exec(viewer, Duration.ofSeconds(15), "crm_mon", "-1", "--output-as=xml");
        if (!r.ok()) throw new IOException("crm_mon on " + viewer + " failed (" + r.status() + "): " + r.output());
        return r.stdout();
    }

    public CrmStatus status(String viewer) throws IOException, InterruptedException {
        return CrmStatus.parse(viewer, crmMonXml(viewer));
    }

    public List<String> onlineNodes(String viewer) throws IOException, InterruptedException {
        return status(viewer).onlineNodes();
    }

    /** The node holding the Promoted instance of {@code resourceOrClone}, as {@code viewer} sees it (empty if none or several). */
    public Optional<String> promotedNode(String resourceOrClone, String viewer) throws IOException, InterruptedException {
        List<String> p = status(viewer).promotedNodes(resourceOrClone);
        return p.size() == 1 ? Optional.of(p.getFirst()) : Optional.empty();
    }

    /** Same, asking {@link #viewer()}. */
    public Optional<String> promotedNode(String resourceOrClone) throws IOException, InterruptedException {
        return promotedNode(resourceOrClone, viewer());
    }

    /** A condition polled by {@link #waitUntil}; an exception counts as "not yet". */
    @FunctionalInterface
    public interface Condition {
        boolean holds() throws Exception;
    }

    /**
     * Polls {@code condition} every 100 ms until it holds; returns how long that took, or throws
     * TimeoutException naming {@code what} (and the last exception the condition threw).
     */
    public static Duration waitUntil(Duration timeout, String what, Condition condition) throws InterruptedException, TimeoutException {
        long t0 = System.nanoTime();
        long deadline = t0 + timeout.toNanos();
        Exception last = null;
        while (true) {
            try {
                if (condition.holds()) return Duration.ofNanos(System.nanoTime() - t0);
                last = null;
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                last = e;
            }
            if (System.nanoTime() > deadline) {
                TimeoutException te = new TimeoutException("timed out after " + timeout.toMillis() + " ms waiting for " + what
                        + (last == null ? "" : " (last error: " + last.getMessage() + ")"));
                if (last != null) te.initCause(last);
                throw te;
            }
            Thread.sleep(100);
        }
    }

    /** Waits until {@code viewer} sees {@code count} nodes online, a DC and quorum; returns the time taken. */
    public Duration awaitFormed(String viewer, int count, Duration timeout) throws InterruptedException, TimeoutException {
        return waitUntil(timeout, count + " nodes online with a quorate DC (viewer " + viewer + ")", () -> {
            CrmStatus s = status(viewer);
            return s.dc().isPresent() && s.quorate() && s.onlineNodes().size() == count;
        });
    }

    /** Waits until {@code viewer} sees exactly one Promoted instance of {@code resourceOrClone}, on a node other than {@code not} (may be null). */
    public String awaitPromoted(String resourceOrClone, String viewer, String not, Duration timeout) throws InterruptedException, TimeoutException {
        String[] found = new String[1];
        waitUntil(timeout, "a Promoted " + resourceOrClone + (not == null ? "" : " on a node other than " + not) + " (viewer " + viewer + ")", () -> {
            Optional<String> p = promotedNode(resourceOrClone, viewer);
            if (p.isEmpty() || p.get().equals(not)) return false;
            found[0] = p.get();
            return true;
        });
        return found[0];
    }

    /** The fence agent's log, one action per line (empty before any). */
    public List<String> fenceLog() throws IOException {
        Path f = runDir().resolve("fence.log");
        return Files.exists(f) ? Files.readAllLines(f) : List.of();
    }

    /** Adds resources to the live CIB ({@code cibadmin -C -o resources -X xml}) through {@link #viewer()}. */
    public void createResources(String xml) throws IOException, InterruptedException {
        String v = viewer();
        ExecResult r = exec(v, "cibadmin", "--create", "-o", "resources", "-X", xml);
        if (!r.ok()) throw new IOException("cibadmin --create on " + v + " failed (" + r.status() + "): " + r.output());
    }

    /** Adds one constraint element ({@code <rsc_location .../>}, ...) to the live CIB. */
    public void createConstraint(String xml) throws IOException, InterruptedException {
        String v = viewer();
        ExecResult r = exec(v, "cibadmin", "--create", "-o", "constraints", "-X", xml);
        if (!r.ok()) throw new IOException("cibadmin --create -o constraints on " + v + " failed (" + r.status() + "): " + r.output());
    }

    /** fence.log and the last lines of each node's init, corosync and pacemaker logs: for failure reports. */
    public String diagnostics(int linesPerLog) {
        StringBuilder s = new StringBuilder("--- cluster " + prefix + " diagnostics (files that exist) ---\n");
        List<Path> files = new ArrayList<>(List.of(runDir().resolve("fence.log")));
        for (String n : nodes) {
            for (String f : List.of("init.log", "var-log-corosync/corosync.log", "var-log-pacemaker/pacemaker.log")) {
                files.add(nodeDir(n).resolve(f));
            }
        }
        for (Path f : files) {
            if (Files.exists(f)) s.append(base.relativize(f)).append(":\n").append(tail(f, linesPerLog));
        }
        return s.toString();
    }

    private static String tail(Path f, int lines) {
        try {
            List<String> all = Files.readAllLines(f, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size())) + "\n";
        } catch (IOException | RuntimeException e) {
            return "(" + f + " unreadable: " + e.getMessage() + ")\n";
        }
    }

    // ---------------------------------------------------------------- down

    /**
     * Removes everything of this cluster that exists: kills every process of every node (by
     * recorded mount namespace), deletes the namespaces (with them the bridges, veths and TAPs) and
     * the base directory. Safe after a partial {@link #up} and when nothing exists. Returns
     * warnings (processes found in a node's network namespace outside its mount namespace; they
     * are reported, not killed).
     */
    public synchronized List<String> down() throws IOException, InterruptedException {
        long t = System.nanoTime();
        List<String> warnings = new ArrayList<>();
        Set<NodeNamespaces> all = new HashSet<>(namespacesSeen);
        for (String n : nodes) namespaces(n).ifPresent(all::add);
        int killed = NodeNamespaces.killAll(all, KILL_TIMEOUT);
        Sh.Result list = Sh.ip("netns", "list");
        List<String> present = list.output().lines().map(l -> l.split(" ")[0]).toList();
        int deleted = 0;
        for (String ns : namespaces()) {
            if (!present.contains(ns)) continue;
            Sh.Result left = Sh.ip("netns", "pids", ns);
            if (left.ok() && !left.output().isBlank()) {
                warnings.add("processes not started by the cluster harness are still in " + ns + ": "
                        + left.output().strip().replace('\n', ' ') + " (not killed)");
            }
            Sh.Result r = Sh.ip("netns", "del", ns);
            if (!r.ok()) throw new IOException("ip netns del " + ns + " failed: " + r.output().strip());
            deleted++;
        }
        partitioned.clear();
        deleteBase();
        if (killed > 0 || deleted > 0) {
            log.info("cluster {}: down ({} processes killed, {} namespaces deleted) in {}", prefix, killed, deleted, since(t));
        }
        for (String w : warnings) log.warn("cluster {}: {}", prefix, w);
        return warnings;
    }

    private void deleteBase() throws IOException {
        if (!Files.exists(base)) return;
        boolean empty;
        try (Stream<Path> s = Files.list(base)) {
            empty = s.findAny().isEmpty();
        }
        if (!empty && !Files.exists(base.resolve(MARKER))) {
            throw new IOException(base + " exists but was not made by the cluster harness (no " + MARKER + "); not deleting it");
        }
        try (Stream<Path> s = Files.walk(base)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
        if (defaultBase) {
            try {
                Files.deleteIfExists(base.getParent()); // /run/jremus-cluster, unless another cluster uses it
            } catch (java.nio.file.DirectoryNotEmptyException inUse) {
                // another cluster's base is there
            }
        }
    }

    private void downQuietly() {
        try {
            down();
        } catch (IOException | InterruptedException | RuntimeException e) {
            System.err.println("cluster " + prefix + ": cleanup at exit failed: " + e);
        }
    }

    /** {@link #down}, and the shutdown hook is removed. */
    @Override
    public synchronized void close() throws IOException, InterruptedException {
        try {
            down();
        } finally {
            if (hookInstalled) {
                try {
                    Runtime.getRuntime().removeShutdownHook(shutdownHook);
                } catch (IllegalStateException shuttingDown) {
                    // the hook is running or about to: it does the same
                }
                hookInstalled = false;
            }
        }
    }

    private static String since(long t0) {
        return String.format("%.2f s", (System.nanoTime() - t0) / 1e9);
    }

    /** Node name → ring address, in order: for configuration files of replication tools. */
    public Map<String, String> ringAddresses() {
        Map<String, String> m = new LinkedHashMap<>();
        for (String n : nodes) m.put(n, ringIp(n));
        return m;
    }
}
