package io.jremus.cli.testbed;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.jremus.replication.stream.tls.KeyDirectory;
import io.jremus.replication.stream.tls.KeyToolException;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A whole Remus world on one machine, for the tests, {@code jremus demo} and
 * {@code jremus bench remus}: the {@link Testbed} namespaces, TLS keys, a witness, and any
 * number of primary/backup pairs of the test guest ({@code work=redis}, its log on a disk of its
 * own on each host), each process a real {@code ./jremus} subprocess in its host's namespace
 * with its output in a log file. Processes are killed by their PID only; {@link #close} kills
 * every process this world started and tears the testbed down (also from a shutdown hook).
 *
 * <p>Each pair gets fresh disks and its own VM id at the witness (so a new pair never meets an
 * old pair's term), but the same VM name and therefore the same MAC and guest address, so one
 * client namespace reaches whichever instance serves.
 */
public final class RemusWorld implements AutoCloseable {
    public static final String VM_NAME = "redis-vm";
    public static final int REDIS_PORT = 6379;
    public static final String REPL_PORT = "7100";
    public static final String WITNESS_ADDR = Testbed.WITNESS_IP + ":7000";

    /**
     * @param name          testbed name (namespace prefix), unique per concurrent user
     * @param dir           where keys, disks, configs and logs go
     * @param home          the repository (the {@code jremus} launcher)
     * @param elf           the test guest
     * @param memory        guest RAM, e.g. {@code 256M}
     * @param leaseMs       the witness lease
     * @param peerTimeoutMs silence after which a peer is suspected
     * @param log           progress lines (may be a no-op)
     */
    public record Settings(String name, Path dir, Path home, Path elf, String memory, long leaseMs, long peerTimeoutMs,
                           java.util.function.Consumer<String> log) {
        public static Settings of(String name, Path dir, Path home, Path elf) {
            return new Settings(name, dir, home, elf, "256M", 600, 300, l -> { });
        }

        public Settings withLog(java.util.function.Consumer<String> l) {
            return new Settings(name, dir, home, elf, memory, leaseMs, peerTimeoutMs, l);
        }

        public Settings withMemory(String m) {
            return new Settings(name, dir, home, elf, m, leaseMs, peerTimeoutMs, log);
        }
    }

    /**
     * How one pair runs.
     *
     * @param intervalMs        epoch interval
     * @param early             early checkpoints when output is waiting
     * @param disk              give the guest a disk (its append-only log) on each host
     * @param guestArgs         extra guest command-line words
     * @param withholdAcksAfter backup test hook (0 = off)
     * @param backupAddress     where the primary connects (null: the backup's own address; a proxy otherwise)
     */
    public record PairOptions(int intervalMs, boolean early, boolean disk, String guestArgs, long withholdAcksAfter,
                              String backupAddress) {
        public static PairOptions defaults() {
            return new PairOptions(25, false, true, "", 0, null);
        }

        public PairOptions interval(int ms) {
            return new PairOptions(ms, early, disk, guestArgs, withholdAcksAfter, backupAddress);
        }

        public PairOptions early(boolean e) {
            return new PairOptions(intervalMs, e, disk, guestArgs, withholdAcksAfter, backupAddress);
        }

        public PairOptions disk(boolean d) {
            return new PairOptions(intervalMs, early, d, guestArgs, withholdAcksAfter, backupAddress);
        }

        public PairOptions guestArgs(String a) {
            return new PairOptions(intervalMs, early, disk, a, withholdAcksAfter, backupAddress);
        }

        public PairOptions withholdAcksAfter(long epoch) {
            return new PairOptions(intervalMs, early, disk, guestArgs, epoch, backupAddress);
        }

        public PairOptions backupAddress(String hostPort) {
            return new PairOptions(intervalMs, early, disk, guestArgs, withholdAcksAfter, hostPort);
        }
    }

    private final Settings settings;
    private final Testbed bed;
    private final Path keys;
    private final List<Node> nodes = Collections.synchronizedList(new ArrayList<>());
    private final Thread hook;
    private Node witness;
    private int pairs;
    private boolean closed;

    private RemusWorld(Settings settings, Testbed bed, Path keys) {
        this.settings = settings;
        this.bed = bed;
        this.keys = keys;
        this.hook = new Thread(this::closeQuietly, "remus-world-teardown");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Why this host cannot run a Remus world, or null when it can. */
    public static String unavailableReason() {
        if (!Files.exists(Path.of("/dev/kvm"))) return "/dev/kvm does not exist on this host";
        return Testbed.unavailableReason();
    }

    /** Builds the testbed, makes the keys and starts the witness. */
    public static RemusWorld up(Settings s) throws IOException, InterruptedException {
        Files.createDirectories(s.dir());
        Testbed bed = Testbed.up(s.name());
        Path keys = s.dir().resolve("keys");
        RemusWorld w = new RemusWorld(s, bed, keys);
        try {
            s.log().accept("testbed " + s.name() + " is up; making TLS keys");
            if (!Files.exists(keys.resolve(KeyDirectory.TRUSTSTORE))) makeKeys(keys, List.of("a", "b", "witness"));
            w.witness = w.spawn("witness", bed.witnessNs(), "witness", "--listen", WITNESS_ADDR,
                    "--state", s.dir().resolve("witness.state").toString(), "--lease-ms", Long.toString(s.leaseMs()));
            w.witness.await(l -> l.contains("listening"), Duration.ofSeconds(60));
            return w;
        } catch (IOException | InterruptedException | RuntimeException e) {
            w.closeQuietly();
            throw e;
        }
    }

    /** Makes a CA and node keys in {@code dir} (the same as {@code jremus keys init}). */
    public static void makeKeys(Path dir, List<String> nodes) throws IOException {
        try {
            KeyDirectory.init(dir, nodes, KeyDirectory.defaultKeytool(), 30, step -> { });
        } catch (KeyToolException e) {
            throw new IOException("keys init: " + e.getMessage(), e);
        }
    }

    public Testbed testbed() {
        return bed;
    }

    public Path dir() {
        return settings.dir();
    }

    public Path keys() {
        return keys;
    }

    public Settings settings() {
        return settings;
    }

    /** A VM config for host {@code h} ("a" or "b") of pair {@code id}; the disk is optional. */
    public Path writeConfig(String id, String h, String guestArgs, Path disk) throws IOException {
        String cmdline = ("ip=" + Testbed.GUEST_IP + "/24 gw=" + Testbed.SEGMENT_IP + " work=redis cpus=1 " + guestArgs).strip();
        StringBuilder toml = new StringBuilder()
                .append("name = \"").append(VM_NAME).append("\"\n")
                .append("memory = \"").append(settings.memory()).append("\"\nvcpus = 1\n")
                .append("kernel = \"").append(settings.elf()).append("\"\n")
                .append("cmdline = \"").append(cmdline).append("\"\n")
                .append("serial = \"").append(dir().resolve(id + "-" + h + ".serial")).append("\"\n")
                .append("[[net]]\ntap = \"").append(Testbed.TAP).append("\"\n");
        if (disk != null) toml.append("[[disk]]\npath = \"").append(disk).append("\"\n");
        return Files.writeString(dir().resolve(id + "-" + h + ".toml"), toml);
    }

    /** Starts a backup (host-b) and a primary (host-a) of a new VM id, with fresh disks. */
    public Pair startPair(PairOptions o) throws IOException {
        String id = "p" + (++pairs);
        Path diskA = null;
        Path diskB = null;
        if (o.disk()) {
            diskA = dir().resolve(id + "-disk-a.img");
            diskB = dir().resolve(id + "-disk-b.img");
            for (Path d : List.of(diskA, diskB)) {
                Files.deleteIfExists(d);
                try (RandomAccessFile f = new RandomAccessFile(d.toFile(), "rw")) {
                    f.setLength(64L << 20); // sparse, all zero: an empty log
                }
            }
        }
        Path cfgA = writeConfig(id, "a", o.guestArgs(), diskA);
        Path cfgB = writeConfig(id, "b", o.guestArgs(), diskB);
        String vmId = settings.name() + "-" + id;
        List<String> common = List.of("--keys", keys.toString(), "--witness", WITNESS_ADDR, "--vm-id", vmId,
                "--lease-ms", Long.toString(settings.leaseMs()), "--peer-timeout-ms", Long.toString(settings.peerTimeoutMs()));
        List<String> b = new ArrayList<>(List.of("backup", cfgB.toString(), "--listen", Testbed.HOST_B_REPL_IP + ":" + REPL_PORT, "--node", "b"));
        b.addAll(common);
        if (o.withholdAcksAfter() > 0) b.addAll(List.of("--withhold-acks-after", Long.toString(o.withholdAcksAfter())));
        Node backup = spawn("backup-" + id, bed.hostBNs(), b.toArray(String[]::new));
        Path stats = dir().resolve(id + "-stats.json");
        String target = o.backupAddress() != null ? o.backupAddress() : Testbed.HOST_B_REPL_IP + ":" + REPL_PORT;
        List<String> a = new ArrayList<>(List.of("primary", cfgA.toString(), "--backup", target, "--node", "a",
                "--interval-ms", Integer.toString(o.intervalMs()), "--stats", stats.toString()));
        if (o.early()) a.add("--early");
        a.addAll(common);
        Node primary = spawn("primary-" + id, bed.hostANs(), a.toArray(String[]::new));
        settings.log().accept(id + ": started backup (pid " + backup.pid() + ") and primary (pid " + primary.pid() + ")");
        return new Pair(id, vmId, primary, backup, cfgA, cfgB, diskA, diskB, stats);
    }

    /** Runs {@code jremus run CONFIG} (an unprotected VM) in host {@code h}'s namespace. */
    public Node runVm(String label, String h, Path config) throws IOException {
        return spawn(label, h.equals("a") ? bed.hostANs() : bed.hostBNs(), "run", config.toString());
    }

    /** An INCR client over one TCP connection from the client namespace to the guest. */
    public IncrClient client(Duration timeout) throws IOException, InterruptedException {
        return IncrClient.connect(bed.clientNs(), Testbed.GUEST_IP, REDIS_PORT, timeout);
    }

    /** Runs a command in the client namespace (redis-cli, redis-benchmark, ping). */
    public NetTestbed.Result inClient(long timeoutSeconds, String... cmd) throws IOException, InterruptedException {
        return bed.exec(bed.clientNs(), timeoutSeconds, cmd);
    }

    /** Kills (-9) every process this world started in host {@code h} ("a" or "b"); returns System.nanoTime at the kill. */
    public long killHost(String h) throws InterruptedException {
        String ns = h.equals("a") ? bed.hostANs() : bed.hostBNs();
        List<Node> victims;
        synchronized (nodes) {
            victims = nodes.stream().filter(n -> n.ns.equals(ns) && n.alive()).toList();
        }
        long t = System.nanoTime();
        for (Node n : victims) n.process.destroyForcibly();
        for (Node n : victims) n.process.waitFor(30, TimeUnit.SECONDS);
        return t;
    }

    public void cut(Testbed.Link link) throws IOException, InterruptedException {
        bed.cut(link);
    }

    public void heal(Testbed.Link link) throws IOException, InterruptedException {
        bed.heal(link);
    }

    /**
     * What one failover run measured.
     *
     * @param ackedBefore       INCRs acknowledged before the kill
     * @param ackedAfter        INCRs acknowledged after it
     * @param killToReplyMs     kill → first reply on the same connection
     * @param restoreMs         the backup's own restore time (its TAKEOVER line)
     * @param takeoverEpoch     the committed epoch the backup resumed
     * @param counter           the server's counter at the end (GET on the same connection; -1 if unreadable)
     * @param expected          base + acknowledged INCRs
     * @param resets            1 if the connection was reset or closed, else 0
     * @param passed            no reset, no client error, counter == expected
     * @param statsAtKill       the primary's statistics file as of the kill
     * @param problem           what went wrong, or null
     */
    public record Failover(long ackedBefore, long ackedAfter, double killToReplyMs, long restoreMs, long takeoverEpoch, long counter,
                           long expected, int resets, boolean passed, Map<String, Object> statsAtKill, String problem) {
    }

    /**
     * One failover under load: a new pair, a client INCRing over one connection for
     * {@code loadMillis}, kill -9 of host-a's processes, the takeover, {@code afterMillis} more
     * of load, then the check (counter == acknowledged INCRs, no reset). Leaves host-b's VM
     * running; the caller kills it ({@link #killHost}) before the next pair.
     */
    public Failover failover(PairOptions o, long loadMillis, long afterMillis) throws IOException, InterruptedException {
        Pair pair = startPair(o);
        pair.awaitProtected(Duration.ofSeconds(120));
        try (IncrClient c = client(Duration.ofSeconds(30))) {
            c.startPump(0);
            Thread.sleep(loadMillis);
            Map<String, Object> stats = pair.stats();
            long before = c.acked();
            long kill = killHost("a");
            String problem = null;
            String takeover = null;
            try {
                takeover = pair.backup().await(l -> l.contains("TAKEOVER: running epoch"), Duration.ofSeconds(60));
            } catch (IllegalStateException e) {
                problem = "no takeover: " + e.getMessage();
            }
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(afterMillis);
            while (problem == null && c.failure() == null && (System.nanoTime() < until || c.firstReplyAfter(kill) < 0)) {
                if (System.nanoTime() > until + TimeUnit.SECONDS.toNanos(60)) {
                    problem = "no reply within 60 s after the takeover";
                    break;
                }
                Thread.sleep(20);
            }
            c.stopPump(Duration.ofSeconds(30));
            if (problem == null && c.failure() != null) problem = "client: " + c.failure().getMessage();
            long counter = -1;
            if (problem == null && !c.pumping()) {
                try {
                    counter = c.get();
                } catch (IOException e) {
                    problem = "GET failed: " + e.getMessage();
                }
            }
            long expected = c.base() + c.acked();
            if (problem == null && counter != expected) problem = "counter " + counter + " but " + expected + " INCRs were acknowledged";
            long first = c.takeoverReplyAfter(kill);
            long restoreMs = -1;
            long epoch = -1;
            if (takeover != null) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("running epoch (\\d+) .* after (\\d+) ms").matcher(takeover);
                if (m.find()) {
                    epoch = Long.parseLong(m.group(1));
                    restoreMs = Long.parseLong(m.group(2));
                }
            }
            return new Failover(before, c.acked() - before, first < 0 ? Double.NaN : (first - kill) / 1e6, restoreMs, epoch, counter,
                    expected, c.wasReset() ? 1 : 0, problem == null && !c.wasReset(), stats, problem);
        }
    }

    private Node spawn(String label, String ns, String... args) throws IOException {
        Path log = dir().resolve(label + ".log");
        Files.deleteIfExists(log);
        Files.createFile(log);
        List<String> cmd = new ArrayList<>(List.of(settings.home().resolve("jremus").toString()));
        cmd.addAll(List.of(args));
        Process p = bed.spawn(ns, label, log, cmd.toArray(String[]::new));
        Node n = new Node(label, ns, p, log);
        nodes.add(n);
        return n;
    }

    /** Stops every process this world started (by PID) and tears the testbed down. */
    @Override
    public synchronized void close() throws IOException, InterruptedException {
        if (closed) return;
        closed = true;
        List<Node> all;
        synchronized (nodes) {
            all = List.copyOf(nodes);
        }
        for (Node n : all) n.process.destroyForcibly();
        for (Node n : all) n.process.waitFor(30, TimeUnit.SECONDS);
        List<String> warnings = bed.down();
        warnings.forEach(w -> settings.log().accept("teardown: " + w));
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException ignored) {
            // already shutting down
        }
    }

    private void closeQuietly() {
        try {
            close();
        } catch (IOException | InterruptedException | RuntimeException e) {
            System.err.println("jremus: teardown of testbed " + settings.name() + " failed: " + e.getMessage());
        }
    }

    /** One primary/backup pair of a VM. */
    public record Pair(String id, String vmId, Node primary, Node backup, Path configA, Path configB, Path diskA, Path diskB,
                       Path statsFile) {
        /** Waits until the primary sent and the backup committed the first checkpoint, and the guest serves. */
        public void awaitProtected(Duration timeout) throws IOException, InterruptedException {
            primary.await(l -> l.contains("protected: first checkpoint sent"), timeout);
            backup.await(l -> l.contains("backup: first checkpoint committed"), timeout);
            Path serial = configA.resolveSibling(id + "-a.serial");
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                if (Files.exists(serial) && Files.readString(serial, StandardCharsets.ISO_8859_1).contains("redis: listening")) return;
                if (System.nanoTime() > deadline || !primary.alive()) {
                    throw new IllegalStateException("the guest did not start serving\n--- primary log ---\n" + primary.log());
                }
                Thread.sleep(50);
            }
        }

        /** The primary's statistics file (epochs, pauses, bytes per epoch, ...), or an empty map. */
        @SuppressWarnings("unchecked")
        public Map<String, Object> stats() {
            try {
                if (!Files.exists(statsFile)) return Map.of();
                return new ObjectMapper().readValue(statsFile.toFile(), LinkedHashMap.class);
            } catch (IOException e) {
                return Map.of();
            }
        }

        public Path serial(String h) {
            return configA.resolveSibling(id + "-" + h + ".serial");
        }
    }

    /** A jremus process of this world: its log, its status lines, its PID. */
    public static final class Node {
        private final String label;
        private final String ns;
        private final Process process;
        private final Path log;

        Node(String label, String ns, Process process, Path log) {
            this.label = label;
            this.ns = ns;
            this.process = process;
            this.log = log;
        }

        public String label() {
            return label;
        }

        public long pid() {
            return process.pid();
        }

        public boolean alive() {
            return process.isAlive();
        }

        public Path logFile() {
            return log;
        }

        public String log() {
            try {
                return Files.readString(log, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(cannot read " + log + ": " + e.getMessage() + ")";
            }
        }

        /** The first log line matching {@code p}, or null. */
        public String line(Predicate<String> p) {
            return log().lines().filter(p).findFirst().orElse(null);
        }

        public boolean has(String text) {
            return log().contains(text);
        }

        /** Waits for a log line matching {@code p}; fails with the log if it does not come or the process ends first. */
        public String await(Predicate<String> p, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                String l = line(p);
                if (l != null) return l;
                if (!process.isAlive()) {
                    l = line(p);
                    if (l != null) return l;
                    throw new IllegalStateException(label + " exited (" + process.exitValue() + ") before the expected line\n--- "
                            + label + " log ---\n" + log());
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(label + ": expected line did not come within " + timeout.toMillis() + " ms\n--- "
                            + label + " log ---\n" + log());
                }
                Thread.sleep(20);
            }
        }

        /** SIGKILL by PID; returns System.nanoTime at the kill. */
        public long kill9() throws InterruptedException {
            long t = System.nanoTime();
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
            return t;
        }

        /** SIGSTOP / SIGCONT by PID (freezes the process as a hung host would). */
        public void signal(String sig) throws IOException, InterruptedException {
            Process k = new ProcessBuilder("kill", "-" + sig, Long.toString(process.pid())).inheritIO().start();
            k.waitFor(10, TimeUnit.SECONDS);
        }

        /** Waits for the process to end; its exit status, or null if it is still running. */
        public Integer awaitExit(Duration timeout) throws InterruptedException {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : null;
        }
    }
}
