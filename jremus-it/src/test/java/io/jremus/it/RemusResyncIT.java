package io.jremus.it;

import io.jremus.cli.testbed.IncrClient;
import io.jremus.cli.testbed.NetTestbed;
import io.jremus.replication.disk.ChunkWriteClock;
import io.jremus.replication.disk.DiskSyncMeta;
import io.jremus.replication.disk.DiskSyncTracker;
import io.jremus.replication.failover.Arbiter;
import io.jremus.replication.failover.Grant;
import io.jremus.replication.failover.Role;
import io.jremus.replication.remus.Backup;
import io.jremus.replication.remus.Primary;
import io.jremus.replication.remus.RemusOptions;
import io.jremus.replication.remus.RemusStats;
import io.jremus.vmm.Vm;
import io.jremus.vmm.config.VmConfig;
import io.jremus.vmm.config.VmConfigLoader;
import io.jremus.vmm.devices.virtio.VirtioMmioTransport;
import io.jremus.vmm.devices.virtio.blk.VirtioBlkDevice;
import io.jremus.vmm.net.NetNs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Re-protection with a partial disk resync, at the Primary/Backup level, with the real test guest
 * (work=redis, append-only log on its disk) on a TAP in a test namespace and the replication link
 * on that namespace's loopback:
 * <ul>
 *   <li>a backup is stopped, the primary runs on alone and the guest writes; a new backup process
 *       (new Backup instance) on the same disk file is seeded with only the changed chunks, and its
 *       disk then equals the primary's byte for byte; a wrong lineage forces a full copy;</li>
 *   <li>the old primary rejoins: it is cut off mid-run and its guest writes to its disk in epochs
 *       the backup never receives; the backup's disk becomes a primary's (its trackers carried
 *       over, {@link DiskSyncTracker#becomePrimary}); the old primary's disk file then joins as the
 *       new backup and is resynced from its activity log plus the changed chunks, not copied.</li>
 * </ul>
 * The takeover VM is booted cold on the backup's disk rather than restored from the committed RAM
 * image (Backup.takeOver does not hand its VM out yet); for the disk this is the same: it holds
 * the committed epoch and the tracker continues from it.
 */
class RemusResyncIT {
    private static final long DISK = 64L << 20;
    private static final int MAGIC = 0x314f414a;
    @TempDir
    Path dir;
    private NetTestbed bed;
    private final List<AutoCloseable> cleanup = new ArrayList<>();
    private final List<String> log = java.util.Collections.synchronizedList(new ArrayList<>());

    @BeforeEach
    void up() throws Exception {
        TestGuest.requireKvm();
        String why = NetTestbed.unavailableReason();
        assumeTrue(why == null, "skipped: " + why);
        bed = NetTestbed.create();
    }

    @AfterEach
    void down() {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            try {
                cleanup.get(i).close();
            } catch (Exception ignored) {
                // best effort
            }
        }
        if (bed != null) bed.close();
    }

    @Test
    void shouldResyncOnlyTheChangedChunksToANewBackupOnTheSameDiskAndCopyInFullOnAWrongLineage() throws Exception {
        Path dA = disk("a.img"), dB = disk("b.img");
        VmConfig cfgA = config("a", dA), cfgB = config("b", dB);
        TestArbiter arbiter = new TestArbiter();
        arbiter.refuse("b"); // the backups here never take over
        Vm vm = boot(cfgA, null);
        Session s1 = protect(vm, cfgB, arbiter, 1);
        assertThat(s1.primary.stats().fullCopies()).as("a fresh backup disk is copied in full").isEqualTo(1);
        try (IncrClient c = client()) {
            // Cost of the activity log under the append-only-log workload: durable rewrites per second.
            io.jremus.replication.disk.ActivityLog al = trackerOf(vm).activityLog();
            long p0 = al.persists(), t0 = System.nanoTime(), a0 = c.acked();
            c.startPump(0);
            await(() -> System.nanoTime() - t0 > 5_000_000_000L && c.acked() - a0 >= 200, Duration.ofSeconds(60), "5 s of INCRs");
            c.stopPump(Duration.ofSeconds(10));
            double secs = (System.nanoTime() - t0) / 1e9;
            log(String.format("activity log: %d durable rewrites in %.1f s of writes (%.2f/s) for %d INCRs (one log write + flush each)",
                    al.persists() - p0, secs, (al.persists() - p0) / secs, c.acked() - a0));
            s1.stopBackup();
            long endB = logEnd(dB);
            long syncedB = DiskSyncMeta.read(DiskSyncMeta.pathFor(dB)).orElseThrow().syncedEpoch();
            log("backup 1 stopped at committed epoch " + s1.backup.committedEpoch() + ", meta synced " + syncedB + ", log end " + endB);
            // Unprotected: the guest keeps writing its log.
            c.startPump(0);
            awaitAcks(c, 400);
            c.stopPump(Duration.ofSeconds(10));
            long endA = logEnd(dA);
            Session s2 = protect(vm, cfgB, arbiter, 1);
            RemusStats st = s2.primary.stats();
            long maxChunks = (endA - 1) / ChunkWriteClock.DEFAULT_CHUNK_BYTES - endB / ChunkWriteClock.DEFAULT_CHUNK_BYTES + 1;
            log("resync 2: " + st.snapshot() + "; log grew " + endB + " -> " + endA + " = at most " + maxChunks + " chunks");
            assertThat(st.fullCopies()).isZero();
            assertThat(st.resyncChunks()).as("chunks resent").isBetween(1L, maxChunks);
            assertThat(st.resyncChunks()).isLessThan(DISK / ChunkWriteClock.DEFAULT_CHUNK_BYTES / 50);
            assertThat(s2.primary.firstEpoch()).as("epochs continue along the lineage").isGreaterThan(s1.backup.committedEpoch());
            c.startPump(0);
            awaitAcks(c, 100);
            c.stopPump(Duration.ofSeconds(10));
            awaitQuiet(s2);
            assertSameDisk(dA, dB);

            // A backup disk of another lineage: a full copy that leaves no stale byte behind.
            s2.stopBackup();
            new DiskSyncMeta(UUID.randomUUID(), 7, new long[0], DiskSyncMeta.DEFAULT_EXTENT_BYTES, null, -1).write(DiskSyncMeta.pathFor(dB));
            try (RandomAccessFile f = new RandomAccessFile(dB.toFile(), "rw")) {
                f.seek(DISK - 4096);
                f.write(new byte[]{1, 2, 3, 4}); // stale data where the primary has zeros
            }
            Session s3 = protect(vm, cfgB, arbiter, 1);
            log("resync 3 (wrong lineage): " + s3.primary.stats().snapshot());
            assertThat(s3.primary.stats().fullCopies()).isEqualTo(1);
            assertThat(log).anyMatch(l -> l.contains("full copy of 64 MiB") && l.contains("lineage"));
            awaitQuiet(s3);
            assertSameDisk(dA, dB);
        }
        vm.stop("test over");
    }

    @Test
    void shouldResyncTheOldPrimarysDiskFromItsActivityLogWhenItRejoinsAsBackup() throws Exception {
        Path dA = disk("a.img"), dB = disk("b.img");
        VmConfig cfgA = config("a", dA), cfgB = config("b", dB);
        TestArbiter arbiter = new TestArbiter();
        arbiter.refuse("b");
        Vm vmA = boot(cfgA, null);
        Session s1 = protect(vmA, cfgB, arbiter, 1);
        long endCommitted;
        try (IncrClient c = client()) {
            c.startPump(0);
            awaitAcks(c, 200);
            c.stopPump(Duration.ofSeconds(10));
            // Cut the link; the arbiter does not answer A, so A holds its output and keeps asking
            // while its guest goes on writing to A's disk: epochs the backup never receives.
            arbiter.unreachable("a");
            s1.stopBackup();
            endCommitted = logEnd(dB);
            c.startPump(0);
            await(() -> {
                try {
                    return logEnd(dA) > endCommitted;
                } catch (IOException e) {
                    return false;
                }
            }, Duration.ofSeconds(30), "A's guest writes past the committed log");
        }
        long endA = logEnd(dA);
        arbiter.refuse("a"); // fenced: A stops its VM
        await(() -> vmA.machine().stopped().isDone(), Duration.ofSeconds(20), "A stopped");
        vmA.close();
        DiskSyncMeta metaA = DiskSyncMeta.read(DiskSyncMeta.pathFor(dA)).orElseThrow();
        log("A fenced with log end " + endA + " (committed " + endCommitted + "); its meta " + metaA);
        assertThat(metaA.activityLog()).as("A's uncommitted writes are in its activity log").isNotEmpty();

        // B's disk becomes the primary's: trackers carried over, epochs continue.
        long committed = s1.backup.committedEpoch();
        List<DiskSyncTracker> trackers = s1.backup.diskTrackers();
        s1.awaitBackupEnd();
        trackers.getFirst().becomePrimary(committed);
        Vm vmB = boot(cfgB, trackers.getFirst());
        try (IncrClient c = client()) {
            c.startPump(0);
            awaitAcks(c, 100);
            c.stopPump(Duration.ofSeconds(10));
        }
        long endB = logEnd(dB);
        // A's disk file rejoins as the backup of B (B's VM runs under the primary's node name here).
        arbiter.grant("a");
        Session s2 = protect(vmB, cfgA, arbiter, committed + 1);
        RemusStats st = s2.primary.stats();
        long extentChunks = metaA.extentBytes() / ChunkWriteClock.DEFAULT_CHUNK_BYTES;
        long bound = metaA.activityLog().length * extentChunks + (endB - 1) / ChunkWriteClock.DEFAULT_CHUNK_BYTES + 1;
        log("rejoin resync: " + st.snapshot() + " (A's activity log " + metaA.activityLog().length + " extents; B's log end " + endB + ")");
        assertThat(st.fullCopies()).isZero();
        assertThat(st.resyncChunks()).isGreaterThanOrEqualTo(metaA.activityLog().length * extentChunks).isLessThanOrEqualTo(bound);
        assertThat(st.resyncBytes()).isLessThan(DISK / 20);
        try (IncrClient c = client()) {
            c.startPump(0);
            awaitAcks(c, 50);
            c.stopPump(Duration.ofSeconds(10));
        }
        awaitQuiet(s2);
        assertSameDisk(dB, dA);
        vmB.stop("test over");
    }

    // ---- helpers --------------------------------------------------------------------------------

    private record Session(Primary primary, Backup backup, Socket[] accepted, Thread backupThread) {
        void stopBackup() throws Exception {
            accepted[0].close();
            awaitBackupEnd();
        }

        void awaitBackupEnd() throws InterruptedException {
            backupThread.join(30_000);
            assertThat(backupThread.isAlive()).as("backup ended").isFalse();
        }
    }

    /** A new Backup instance on {@code backupCfg}'s disk, and a Primary of {@code vm} connected to it, protected. */
    private Session protect(Vm vm, VmConfig backupCfg, TestArbiter arbiter, long firstEpoch) throws Exception {
        ServerSocket server = NetNs.runIn(bed.hostNs(), () -> new ServerSocket(0, 1, InetAddress.getLoopbackAddress()));
        cleanup.add(server);
        Socket[] accepted = new Socket[1];
        Backup.PeerAcceptor acceptor = new Backup.PeerAcceptor() {
            @Override
            public Socket accept() throws IOException {
                if (server.isClosed()) {
                    try {
                        Thread.sleep(100); // torn down: keep the backup's refuser from spinning
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    throw new IOException("test server closed");
                }
                Socket a = server.accept(); // blocks: the backup's refuser calls again while a primary is connected
                if (accepted[0] == null) accepted[0] = a;
                return a;
            }

            @Override
            public String describe() {
                return server.getLocalSocketAddress().toString();
            }
        };
        RemusOptions ob = RemusOptions.defaults("vm", "b").withPeerTimeout(Duration.ofMillis(500));
        Backup backup = new Backup(backupCfg, acceptor, arbiter, ob, this::log, Vm.Options.defaults(), 0);
        Thread bt = Thread.ofPlatform().daemon(true).name("test-backup").start(() -> {
            try {
                log("backup outcome: " + backup.run());
            } catch (Exception e) {
                log("backup ended: " + e);
            }
        });
        int port = server.getLocalPort();
        Socket s = NetNs.runIn(bed.hostNs(), () -> new Socket(InetAddress.getLoopbackAddress(), port));
        cleanup.add(s);
        RemusOptions oa = RemusOptions.defaults("vm", "a").withPeerTimeout(Duration.ofMillis(500)).withFirstEpoch(firstEpoch);
        Primary primary = new Primary(vm, s, arbiter, oa, this::log);
        Thread.ofPlatform().daemon(true).name("test-primary").start(() -> {
            try {
                log("primary outcome: " + primary.run());
            } catch (Exception e) {
                log("primary ended: " + e);
            }
        });
        await(() -> backup.committedEpoch() >= primary.firstEpoch(), Duration.ofSeconds(60), "first checkpoint committed");
        return new Session(primary, backup, accepted, bt);
    }

    /** Lets the guest go idle and the backup commit a few more epochs, so both disks hold the same epoch. */
    private void awaitQuiet(Session s) throws Exception {
        Thread.sleep(300);
        long e = s.backup.committedEpoch();
        await(() -> s.backup.committedEpoch() >= e + 4, Duration.ofSeconds(20), "more commits");
    }

    private Vm boot(VmConfig cfg, DiskSyncTracker tracker) throws Exception {
        Vm vm = NetNs.runIn(bed.hostNs(), () -> Vm.create(cfg, Vm.Options.defaults()));
        cleanup.add(vm::close);
        cleanup.add(() -> vm.stop("test cleanup"));
        if (tracker != null) {
            for (VirtioMmioTransport t : vm.virtioTransports()) {
                if (t.device() instanceof VirtioBlkDevice blk) tracker.attach(blk);
            }
        }
        vm.start();
        return vm;
    }

    private static DiskSyncTracker trackerOf(Vm vm) {
        for (VirtioMmioTransport t : vm.virtioTransports()) {
            if (t.device() instanceof VirtioBlkDevice blk) return DiskSyncTracker.of(blk);
        }
        throw new AssertionError("no disk");
    }

    private IncrClient client() throws Exception {
        try {
            return IncrClient.connect(bed.clientNs(), NetTestbed.GUEST_IP, 6379, Duration.ofSeconds(60));
        } catch (IOException e) {
            for (String h : List.of("a", "b")) {
                Path serial = dir.resolve(h + ".serial");
                if (Files.exists(serial)) log("--- " + serial + " ---\n" + Files.readString(serial, java.nio.charset.StandardCharsets.ISO_8859_1));
            }
            throw e;
        }
    }

    private Path disk(String name) throws IOException {
        Path d = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(d.toFile(), "rw")) {
            f.setLength(DISK);
        }
        return d;
    }

    private VmConfig config(String h, Path disk) throws Exception {
        String toml = "name = \"resync\"\nmemory = \"256M\"\nvcpus = 1\n"
                + "kernel = \"" + TestGuest.elf() + "\"\n"
                + "cmdline = \"ip=" + NetTestbed.GUEST_IP + "/24 gw=" + NetTestbed.HOST_IP + " work=redis cpus=1\"\n"
                + "serial = \"" + dir.resolve(h + ".serial") + "\"\n"
                + "[[net]]\ntap = \"" + NetTestbed.TAP + "\"\n"
                + "[[disk]]\npath = \"" + disk + "\"\n";
        return VmConfigLoader.load(Files.writeString(dir.resolve(h + ".toml"), toml));
    }

    private static void awaitAcks(IncrClient c, long more) throws Exception {
        long target = c.acked() + more;
        await(() -> c.acked() >= target, Duration.ofSeconds(60), more + " more INCRs acknowledged");
    }

    private static void await(BooleanSupplier cond, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for: " + what);
            Thread.sleep(20);
        }
    }

    private void log(String line) {
        log.add(line);
        System.err.println("[resync-it] " + line);
    }

    private static void assertSameDisk(Path a, Path b) throws IOException {
        byte[] x = Files.readAllBytes(a), y = Files.readAllBytes(b);
        assertThat(y.length).isEqualTo(x.length);
        int first = Arrays.mismatch(x, y);
        assertThat(first).as(a + " and " + b + " differ first at byte " + first).isEqualTo(-1);
    }

    /** Where the guest's append-only log ends on a disk (guest/README.md, "Append-only log"). */
    private static long logEnd(Path disk) throws IOException {
        byte[] d = new byte[8 << 20];
        try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "r")) {
            f.readFully(d);
        }
        ByteBuffer b = ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN);
        int off = 0;
        while (off + 16 <= d.length && b.getInt(off) == MAGIC) off += 16 + b.getInt(off + 4);
        return off;
    }

    /** Grants by default; a node can be refused or left unanswered. */
    private static final class TestArbiter implements Arbiter {
        private final java.util.Map<String, Grant.Outcome> answers = new java.util.concurrent.ConcurrentHashMap<>();

        void refuse(String node) {
            answers.put(node, Grant.Outcome.REFUSED);
        }

        void grant(String node) {
            answers.remove(node);
        }

        void unreachable(String node) {
            answers.put(node, Grant.Outcome.UNREACHABLE);
        }

        @Override
        public Grant request(String vmId, String node, Role wanted, long knownTerm, Duration timeout) {
            Grant.Outcome o = wanted == Role.ACTIVE ? answers.getOrDefault(node, Grant.Outcome.GRANTED) : Grant.Outcome.GRANTED;
            if (o == Grant.Outcome.UNREACHABLE) return Grant.unreachable(vmId, Duration.ofMillis(50), "test: no answer");
            return new Grant(o, vmId, knownTerm + 1, node, wanted, lease(), Duration.ZERO, "test");
        }

        @Override
        public Duration lease() {
            return Duration.ofSeconds(10);
        }
    }
}
