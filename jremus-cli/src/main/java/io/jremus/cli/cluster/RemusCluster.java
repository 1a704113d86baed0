package io.jremus.cli.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jremus.cli.testbed.IncrClient;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * Protected VMs on a {@link PacemakerCluster}: each VM is a promotable clone of
 * {@code ocf:jremus:vm} (clone-max 2, promoted-max 1, notify), with its own TAP, guest address,
 * replication port and per-node disk image, all under a work directory every node can see
 * ({@code /var/tmp}: a node's /run is its own tmpfs). Used by the cluster tests and
 * {@code jremus bench cluster}.
 */
public final class RemusCluster implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The guest's RESP port. */
    public static final int GUEST_PORT = 6379;

    /**
     * One protected VM.
     *
     * @param id         resource and VM name (lower case, e.g. "vma")
     * @param guestIp    its address on the segment
     * @param tap        its TAP on every node ({@link PacemakerCluster#TAPS})
     * @param port       its replication port on every node's ring address
     * @param nodes      where its two instances prefer to run, first = preferred primary
     */
    public record VmSpec(String id, String guestIp, String tap, int port, List<String> nodes) {
        public String clone() {
            return id + "-clone";
        }
    }

    private final PacemakerCluster cluster;
    private final Path work;
    private final Path repo;
    private final Path elf;
    private final Path keys;
    private final long diskBytes;
    private final Map<String, VmSpec> vms = new LinkedHashMap<>();
    private long prefillBytes;

    public RemusCluster(PacemakerCluster cluster, Path repo, Path elf, long diskBytes) throws IOException, InterruptedException {
        this.cluster = cluster;
        this.repo = repo;
        this.elf = elf;
        this.diskBytes = diskBytes;
        this.work = workDir(cluster.prefix());
        deleteTree(work);
        Files.createDirectories(work);
        this.keys = work.resolve("keys");
        Process p = new ProcessBuilder(repo.resolve("jremus").toString(), "keys", "init", "--dir", keys.toString(),
                "--nodes", String.join(",", cluster.nodeNames())).redirectErrorStream(true)
                .redirectOutput(work.resolve("keys.log").toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("jremus keys init failed: " + Files.readString(work.resolve("keys.log")));
        }
    }

    /** Where the VM files of cluster {@code prefix} live. */
    public static Path workDir(String prefix) {
        return Path.of("/var/tmp/jremus-cluster-" + prefix);
    }

    /** Removes the VM files of cluster {@code prefix} (after its nodes were killed). */
    public static void deleteWork(String prefix) throws IOException {
        deleteTree(workDir(prefix));
    }

    /**
     * Gives every node's new disk the same {@code bytes} of pseudo-random data from 8 MiB on
     * (beyond the guest's log, which starts at 0): data a full copy must send and a resync need
     * not. For benchmarks; 0 (the default) leaves the disks zero.
     */
    public RemusCluster prefill(long bytes) {
        this.prefillBytes = bytes;
        return this;
    }

    public PacemakerCluster cluster() {
        return cluster;
    }

    public Path work() {
        return work;
    }

    /** Writes the VM's per-node configs and disks and adds its clone and constraints to the CIB. */
    public void addVm(VmSpec vm) throws IOException, InterruptedException {
        vms.put(vm.id(), vm);
        StringBuilder peers = new StringBuilder();
        for (String n : cluster.nodeNames()) {
            Path disk = disk(vm.id(), n);
            try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
                f.setLength(diskBytes); // sparse, zero: an empty append-only log
                if (prefillBytes > 0) {
                    java.util.Random r = new java.util.Random(42); // the same bytes on every node
                    byte[] block = new byte[1 << 20];
                    f.seek(8L << 20);
                    for (long done = 0; done < prefillBytes && (8L << 20) + done + block.length <= diskBytes; done += block.length) {
                        r.nextBytes(block);
                        f.write(block);
                    }
                }
            }
            String cmdline = "ip=" + vm.guestIp() + "/24 gw=" + PacemakerCluster.SEGMENT_IP + " work=redis cpus=1";
            Files.writeString(work.resolve(vm.id() + "-" + n + ".toml"), """
                    name = "%s"
                    memory = "256M"
                    vcpus = 1
                    kernel = "%s"
                    cmdline = "%s"
                    serial = "%s"
                    [[net]]
                    tap = "%s"
                    [[disk]]
                    path = "%s"
                    """.formatted(vm.id(), elf, cmdline, work.resolve(vm.id() + "-" + n + ".serial"), vm.tap(), disk));
            if (!peers.isEmpty()) peers.append(' ');
            peers.append(n).append('=').append(cluster.ringIp(n)).append(':').append(vm.port());
        }
        String id = vm.id();
        String params = nv(id, "config", work.resolve(id + "-%n.toml").toString())
                + nv(id, "peers", peers.toString())
                + nv(id, "keys", keys.toString())
                + nv(id, "jremus", repo.resolve("jremus").toString())
                + nv(id, "state_dir", work.resolve(id + "-%n").toString());
        cluster.createResources("""
                <clone id="%1$s-clone">
                  <meta_attributes id="%1$s-clone-meta">
                    <nvpair id="%1$s-promotable" name="promotable" value="true"/>
                    <nvpair id="%1$s-promoted-max" name="promoted-max" value="1"/>
                    <nvpair id="%1$s-clone-max" name="clone-max" value="2"/>
                    <nvpair id="%1$s-clone-node-max" name="clone-node-max" value="1"/>
                    <nvpair id="%1$s-notify" name="notify" value="true"/>
                    <nvpair id="%1$s-target-role" name="target-role" value="Stopped"/>
                  </meta_attributes>
                  <primitive id="%1$s" class="ocf" provider="jremus" type="vm">
                    <instance_attributes id="%1$s-ia">%2$s
                    </instance_attributes>
                    <operations>
                      <op id="%1$s-op-start" name="start" timeout="60s" interval="0"/>
                      <op id="%1$s-op-stop" name="stop" timeout="60s" interval="0"/>
                      <op id="%1$s-op-promote" name="promote" timeout="60s" interval="0"/>
                      <op id="%1$s-op-demote" name="demote" timeout="60s" interval="0"/>
                      <op id="%1$s-op-notify" name="notify" timeout="20s" interval="0"/>
                      <op id="%1$s-op-mon-p" name="monitor" interval="3s" role="Promoted" timeout="20s"/>
                      <op id="%1$s-op-mon-u" name="monitor" interval="4s" role="Unpromoted" timeout="20s"/>
                    </operations>
                  </primitive>
                </clone>""".formatted(id, params));
        // Where the instances prefer to be, and which one starts as primary (a tie otherwise).
        int score = 200;
        for (String n : vm.nodes()) {
            cluster.createConstraint("<rsc_location id=\"%s-on-%s\" rsc=\"%s-clone\" node=\"%s\" score=\"%d\"/>"
                    .formatted(id, n, id, n, score));
            score /= 2;
        }
        cluster.createConstraint("<rsc_location id=\"%s-promoted-on-%s\" rsc=\"%s-clone\" role=\"Promoted\" node=\"%s\" score=\"10\"/>"
                .formatted(id, vm.nodes().getFirst(), id, vm.nodes().getFirst()));
        // Created stopped, started once its placement is in the CIB.
        ExecResult r = cluster.exec(cluster.viewer(), "crm_resource", "--resource", vm.clone(), "--meta",
                "--delete-parameter", "target-role");
        if (!r.ok()) throw new IOException("starting " + vm.clone() + " failed: " + r.output());
    }

    private static String nv(String id, String name, String value) {
        return "\n                      <nvpair id=\"%s-%s\" name=\"%s\" value=\"%s\"/>".formatted(id, name.replace('_', '-'), name, value);
    }

    public VmSpec vm(String id) {
        return vms.get(id);
    }

    /** The guest's MAC (derived from the VM name, the same on every node). */
    public String guestMac(String vm) {
        try {
            return io.jremus.vmm.config.VmConfigLoader.load(work.resolve(vm + "-" + cluster.nodeNames().getFirst() + ".toml"))
                    .nets().getFirst().mac().toString();
        } catch (io.jremus.vmm.config.ConfigException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    public Path disk(String vm, String node) {
        return work.resolve(vm + "-" + node + ".img");
    }

    public Path serial(String vm, String node) {
        return work.resolve(vm + "-" + node + ".serial");
    }

    public Path log(String vm, String node) {
        return work.resolve(vm + "-" + node).resolve("ha-node.log");
    }

    /** The ha-node status of {@code vm} on {@code node} (empty if no instance answers there). */
    public Optional<JsonNode> status(String vm, String node) {
        Path sock = work.resolve(vm + "-" + node).resolve("control.sock");
        if (!Files.exists(sock)) return Optional.empty();
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(sock));
            Channels.newOutputStream(c).write("{\"cmd\":\"status\"}\n".getBytes(StandardCharsets.UTF_8));
            String line = new BufferedReader(new InputStreamReader(Channels.newInputStream(c), StandardCharsets.UTF_8)).readLine();
            return line == null ? Optional.empty() : Optional.of(JSON.readTree(line));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The node whose instance of {@code vm} is protected primary with a backup that committed. */
    public Optional<String> protectedPrimary(String vm) {
        for (String n : cluster.nodeNames()) {
            Optional<JsonNode> s = status(vm, n);
            if (s.isPresent() && "PRIMARY".equals(s.get().path("state").asText()) && s.get().path("protected").asBoolean()
                    && s.get().path("lastAcked").asLong() > 0) {
                return Optional.of(n);
            }
        }
        return Optional.empty();
    }

    /** The node holding a committed backup of {@code vm} (standby with committed epochs and a live stream). */
    public Optional<String> syncedBackup(String vm) {
        for (String n : cluster.nodeNames()) {
            Optional<JsonNode> s = status(vm, n);
            if (s.isPresent() && "STANDBY".equals(s.get().path("state").asText()) && s.get().path("streaming").asBoolean()
                    && s.get().path("committedEpoch").asLong() > 0) {
                return Optional.of(n);
            }
        }
        return Optional.empty();
    }

    /** Waits until {@code vm} runs protected: primary on one node, a committed backup on another. */
    public String[] awaitProtected(String vm, Duration timeout) throws InterruptedException, TimeoutException {
        String[] pair = new String[2];
        PacemakerCluster.waitUntil(timeout, vm + " protected (primary + committed backup)", () -> {
            Optional<String> p = protectedPrimary(vm);
            Optional<String> b = syncedBackup(vm);
            if (p.isEmpty() || b.isEmpty()) return false;
            pair[0] = p.get();
            pair[1] = b.get();
            return true;
        });
        return pair;
    }

    /** A client in the client namespace, connected to {@code vm}'s RESP server over one TCP connection. */
    public IncrClient client(String vm, Duration timeout) throws IOException, InterruptedException {
        return IncrClient.connect(cluster.clientNs(), vms.get(vm).guestIp(), GUEST_PORT, timeout);
    }

    /** The last lines of every ha-node log and serial console, for a failure message. */
    public String diagnostics(int lines) {
        StringBuilder sb = new StringBuilder();
        try {
            for (Path p : logFiles()) {
                List<String> all = Files.readAllLines(p, StandardCharsets.UTF_8);
                sb.append("==> ").append(p).append('\n');
                for (String l : all.subList(Math.max(0, all.size() - lines), all.size())) sb.append("  ").append(l).append('\n');
            }
        } catch (IOException e) {
            sb.append("(").append(e.getMessage()).append(")\n");
        }
        return sb.toString();
    }

    /** Copies every ha-node log and console into {@code dir} (for a test report) before {@link #close}. */
    public void saveLogs(Path dir) {
        try {
            Files.createDirectories(dir);
            for (Path p : logFiles()) {
                Files.copy(p, dir.resolve(work.relativize(p).toString().replace('/', '_')), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            // best effort: the report still has the diagnostics
        }
    }

    /** The ha-node logs and guest consoles under the work directory, sorted. */
    private List<Path> logFiles() throws IOException {
        try (Stream<Path> s = Files.walk(work)) {
            return s.filter(f -> f.getFileName().toString().endsWith(".log") || f.getFileName().toString().endsWith(".serial")).sorted().toList();
        }
    }

    /** Removes the work directory (the cluster, closed first by its owner, killed every ha-node). */
    @Override
    public void close() throws IOException {
        deleteTree(work);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            List<Path> all = new ArrayList<>(s.sorted(Comparator.reverseOrder()).toList());
            for (Path p : all) Files.deleteIfExists(p);
        }
    }
}
