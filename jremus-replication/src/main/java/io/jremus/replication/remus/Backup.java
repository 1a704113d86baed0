package io.jremus.replication.remus;

import io.jremus.replication.disk.DiskReplicationException;
import io.jremus.replication.disk.DiskSyncMeta;
import io.jremus.replication.disk.DiskSyncTracker;
import io.jremus.replication.disk.EpochDiskBuffer;
import io.jremus.replication.disk.FileDiskImage;
import io.jremus.replication.failover.Arbiter;
import io.jremus.replication.failover.Grant;
import io.jremus.replication.failover.Role;
import io.jremus.replication.state.StateBlob;
import io.jremus.replication.stream.BackHeader;
import io.jremus.replication.stream.PageBatchView;
import io.jremus.replication.stream.RecordReader;
import io.jremus.replication.stream.RecordView;
import io.jremus.replication.stream.RecordWriter;
import io.jremus.replication.stream.StreamDirection;
import io.jremus.replication.stream.StreamHeader;
import io.jremus.replication.stream.StreamLimits;
import io.jremus.replication.stream.page.PageDecoder;
import io.jremus.replication.stream.page.PageEncoder;
import io.jremus.vmm.Vm;
import io.jremus.vmm.boot.GuestRamLayout;
import io.jremus.vmm.boot.RamRegion;
import io.jremus.vmm.config.DiskConfig;
import io.jremus.vmm.config.VmConfig;
import io.jremus.vmm.devices.virtio.VirtioMmioTransport;
import io.jremus.vmm.devices.virtio.net.VirtioNetDevice;
import io.jremus.vmm.memory.GuestMemory;
import io.jremus.vmm.memory.MemoryRegion;
import io.jremus.vmm.snapshot.SnapshotException;
import io.jremus.vmm.snapshot.VmSnapshotState;
import io.jremus.vmm.snapshot.format.ConfigToml;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The backup side of Remus: keeps the committed image (RAM, vCPU/VM/device state, disks) of
 * the last complete checkpoint, acknowledges each checkpoint once it is applied and durable,
 * and takes over when the primary falls silent and the arbiter agrees.
 *
 * <p>An epoch's pages and disk writes are staged and applied only when its CHECKPOINT_END
 * arrived and its state decoded and validated (invariant 2); disk writes reach the backup's
 * disk only at that commit (invariant 3). A malformed stream is refused: the open epoch is
 * discarded, the committed image stays, the connection is closed and the backup goes on
 * watching for the primary's silence with what it has.
 *
 * <p>Disks: the backup opens its existing images and reports, per disk, what its copy holds
 * (DISK_STATE: lineage, synced epoch, activity-log extents, from the {@link DiskSyncTracker});
 * the primary then resyncs only what differs, or copies in full (the image is emptied first).
 * The trackers stay usable after a takeover ({@link #diskTrackers()}, {@link DiskSyncTracker#becomePrimary}).
 */
public final class Backup {
    private static final Logger log = LoggerFactory.getLogger(Backup.class);

    /** How the backup ended. */
    public enum Outcome {
        /** Took over and ran the VM until it stopped. */
        TOOK_OVER,
        /** The arbiter refused the takeover (another instance is active); nothing was started. */
        REFUSED,
        /** The primary ended the stream cleanly (its VM stopped): nothing to take over. */
        PRIMARY_FINISHED,
        /**
         * Took over with {@link #handBackVm}: the restored VM is running and belongs to the caller
         * ({@link #takenOverVm}).
         */
        TOOK_OVER_RUNNING,
        /** {@link #abandon} was called before any primary connected. */
        ABANDONED
    }

    private final VmConfig config;
    private final PeerAcceptor acceptor;
    private final Arbiter arbiter;
    private final RemusOptions options;
    private final Consumer<String> status;
    private final Vm.Options vmOptions;
    private final long withholdAcksAfter;
    private final Arena arena = Arena.ofShared();
    private final ShadowMemory ram;
    private final List<DiskSyncTracker.TrackedImage> diskImages = new ArrayList<>();
    private final List<DiskSyncTracker> trackers = new ArrayList<>();
    private final List<EpochDiskBuffer> diskBuffers = new ArrayList<>();
    private final PageDecoder decoder = new PageDecoder();
    private volatile long lastHeardNanos;
    private volatile boolean streamOver;
    private volatile boolean primaryFinished;
    private volatile long knownTerm;
    private volatile long committedEpoch;
    private volatile VmSnapshotState committedState;
    private volatile Socket socket;
    private volatile boolean forceTakeover;
    private volatile boolean abandoned;
    private volatile boolean finished;
    private volatile Thread receiver;
    private volatile boolean handBackVm;
    private volatile Vm takenOver;
    private RecordWriter back;

    /**
     * @param withholdAcksAfter test hook: send no ACK for epochs after this one (heartbeats go on); 0 = off
     */
    public Backup(VmConfig config, PeerAcceptor acceptor, Arbiter arbiter, RemusOptions options, Consumer<String> status,
                  Vm.Options vmOptions, long withholdAcksAfter) throws IOException {
        this.config = config;
        this.acceptor = acceptor;
        this.arbiter = arbiter;
        this.options = options;
        this.status = status;
        this.vmOptions = vmOptions;
        this.withholdAcksAfter = withholdAcksAfter;
        this.ram = new ShadowMemory(GuestRamLayout.regionsFor(config.memoryBytes()), arena);
        for (DiskConfig d : config.disks()) {
            FileDiskImage file = FileDiskImage.open(d.path());
            DiskSyncTracker tracker = DiskSyncTracker.openForBackup(d.path(), file.sizeBytes(), status);
            DiskSyncTracker.TrackedImage img = tracker.image(file);
            trackers.add(tracker);
            diskImages.add(img);
            diskBuffers.add(new EpochDiskBuffer(img, 0, 1L << 30));
        }
    }

    public long committedEpoch() {
        return committedEpoch;
    }

    /** Whether a primary ever connected to this backup. */
    public boolean everConnected() {
        return socket != null;
    }

    /** Whether the primary is still streaming to this backup. */
    public boolean streaming() {
        return socket != null && !streamOver;
    }

    /**
     * Take over without running the VM to its end: {@link #run} returns
     * {@link Outcome#TOOK_OVER_RUNNING} once the restored VM runs; the caller owns it.
     */
    public Backup handBackVm(boolean value) {
        this.handBackVm = value;
        return this;
    }

    public Vm takenOverVm() {
        return takenOver;
    }

    /**
     * The cluster manager decided this backup takes over now (the old primary was fenced or
     * demoted): stop acknowledging and drop the stream without waiting for the peer timeout.
     */
    public void forceTakeover() {
        forceTakeover = true;
        closeQuietly();
    }

    /** Stop waiting for a primary (only meaningful before one connected). */
    public void abandon() {
        abandoned = true;
    }

    /**
     * The disks' trackers, in config order: after a takeover, call
     * {@link DiskSyncTracker#becomePrimary becomePrimary(committedEpoch)} on each and
     * {@link DiskSyncTracker#attach attach} it to the restored VM's disk before it runs, so the
     * new primary can later resync a new backup in part.
     */
    public List<DiskSyncTracker> diskTrackers() {
        return List.copyOf(trackers);
    }

    /** Receives until the primary is lost, then arbitrates and, if granted, runs the VM. */
    public Outcome run() throws IOException, InterruptedException {
        try {
            return receiveThenArbitrate();
        } finally {
            finished = true;
            releaseImage();
        }
    }

    private Outcome receiveThenArbitrate() throws IOException, InterruptedException {
        status.accept("backup: waiting for the primary on " + acceptor.describe());
        while (socket == null) {
            if (abandoned) return Outcome.ABANDONED;
            try {
                socket = acceptor.accept();
            } catch (java.net.SocketTimeoutException e) {
                // no primary yet; look at the abandon flag again
                continue;
            } catch (IOException e) {
                if (abandoned) return Outcome.ABANDONED;
                status.accept("backup: refused a peer: " + e.getMessage());
            }
        }
        lastHeardNanos = System.nanoTime();
        status.accept("backup: primary connected from " + socket.getRemoteSocketAddress());
        Thread.ofPlatform().name("remus-refuser").daemon(true).start(this::refuseOthers);
        receiver = Thread.ofPlatform().name("remus-receiver").daemon(true).start(this::receive);
        learnTerm();
        long nextHeartbeat = 0;
        long nextTermCheck = System.nanoTime() + 1_000_000_000L;
        long seq = 0;
        while (true) {
            long now = System.nanoTime();
            if (primaryFinished) {
                status.accept("backup: the primary ended the stream (its VM stopped); nothing to take over");
                return Outcome.PRIMARY_FINISHED;
            }
            // Before the first commit there is nothing to take over: be patient while the primary
            // starts and seeds; after it, silence beyond the peer timeout means the primary is lost.
            long allowed = committedEpoch > 0 ? options.peerTimeout().toNanos() : TimeUnit.SECONDS.toNanos(60);
            if (streamOver || forceTakeover || now - lastHeardNanos > allowed) break;
            if (now >= nextHeartbeat) {
                sendHeartbeat(++seq, now);
                nextHeartbeat = now + options.heartbeatEvery().toNanos();
            }
            if (now >= nextTermCheck) {
                learnTerm();
                nextTermCheck = now + 1_000_000_000L;
            }
            Thread.sleep(5);
        }
        long silent = (System.nanoTime() - lastHeardNanos) / 1_000_000;
        closeQuietly();
        receiver.join(2000);
        if (committedState == null) {
            throw new IOException("the primary was lost before the first checkpoint committed: nothing to take over");
        }
        status.accept("backup: primary lost (silent for " + silent + " ms); asking the arbiter to take over at epoch " + committedEpoch);
        while (true) {
            Grant g = arbiter.request(options.vmId(), options.node(), Role.ACTIVE, knownTerm, Duration.ofSeconds(1));
            switch (g.outcome()) {
                case GRANTED -> {
                    return takeOver(g.term());
                }
                case REFUSED -> {
                    status.accept("backup: REFUSED by the arbiter (" + g.reason() + "); another instance is active; not starting");
                    return Outcome.REFUSED;
                }
                default -> Thread.sleep(Math.max(20, g.retryAfter() == null ? 100 : g.retryAfter().toMillis()));
            }
        }
    }

    /** Learns the primary's term, but only while the stream is clearly alive (see class comment). */
    private void learnTerm() {
        long before = System.nanoTime();
        if (before - lastHeardNanos > options.peerTimeout().toNanos() / 2) return;
        Grant g = arbiter.request(options.vmId(), options.node(), Role.STANDBY, 0, Duration.ofMillis(300));
        long after = System.nanoTime();
        if (g.outcome() != Grant.Outcome.UNREACHABLE && after - lastHeardNanos < options.peerTimeout().toNanos() / 2
                && "PRIMARY".equals(String.valueOf(g.role()))) {
            knownTerm = g.term();
        }
    }

    private Outcome takeOver(long term) throws IOException, InterruptedException {
        if (handBackVm) {
            takenOver = restoreAndStart(term);
            return Outcome.TOOK_OVER_RUNNING;
        }
        try (Vm vm = restoreAndStart(term)) {
            while (!vm.machine().stopped().isDone()) {
                arbiter.request(options.vmId(), options.node(), Role.ACTIVE, term, Duration.ofMillis(300));
                Thread.sleep(Math.max(10, arbiter.lease().toMillis() / 4));
            }
        }
        return Outcome.TOOK_OVER;
    }

    /** Restores the committed epoch, starts it and announces its new location on every NIC. */
    private Vm restoreAndStart(long term) throws IOException {
        long t0 = System.nanoTime();
        for (int d = 0; d < diskBuffers.size(); d++) {
            try {
                diskBuffers.get(d).discard(committedEpoch + 1);
            } catch (DiskReplicationException ignored) {
                // nothing was open
            }
            diskImages.get(d).close();
        }
        Vm vm;
        try {
            vm = Vm.restore(config, committedState, new CommittedImage(ram), vmOptions);
        } catch (SnapshotException e) {
            throw new IOException("cannot restore committed epoch " + committedEpoch + ": " + e.getMessage(), e);
        }
        // The disks keep their lineage and write clock across the takeover, so that a later backup
        // (the old primary rejoining, say) is resynced with only what changed.
        int d = 0;
        for (VirtioMmioTransport t : vm.virtioTransports()) {
            if (t.device() instanceof io.jremus.vmm.devices.virtio.blk.VirtioBlkDevice blk && d < trackers.size()) {
                DiskSyncTracker tracker = trackers.get(d++);
                tracker.becomePrimary(committedEpoch);
                tracker.attach(blk);
            }
        }
        vm.start();
        for (VirtioMmioTransport t : vm.virtioTransports()) {
            if (t.device() instanceof VirtioNetDevice net) net.announce();
        }
        status.accept("TAKEOVER: running epoch " + committedEpoch + " as ACTIVE (term " + term + ", unprotected) after "
                + (System.nanoTime() - t0) / 1_000_000 + " ms of restore");
        Thread.ofPlatform().daemon(true).start(() -> {
            // Announce again, as QEMU does, in case the first frames were lost.
            try {
                for (int i = 1; i <= 3; i++) {
                    Thread.sleep(50L * i);
                    for (VirtioMmioTransport t : vm.virtioTransports()) {
                        if (t.device() instanceof VirtioNetDevice net) net.announce();
                    }
                }
            } catch (InterruptedException | RuntimeException ignored) {
                // best effort
            }
        });
        return vm;
    }

    private synchronized void sendHeartbeat(long seq, long now) {
        if (back == null) return;
        try {
            back.writeHeartbeat(seq, now);
            back.flush();
        } catch (IOException e) {
            streamOver = true;
        }
    }

    private synchronized void sendAck(long epoch) throws IOException {
        if (withholdAcksAfter > 0 && epoch > withholdAcksAfter) {
            if (epoch == withholdAcksAfter + 1) status.accept("backup: test hook: withholding every ACK after epoch " + withholdAcksAfter);
            return;
        }
        back.writeAck(epoch);
        back.flush();
    }

    /** The receive loop: stage each epoch, apply it only when complete and valid, then ack. */
    private void receive() {
        // Addresses of the pages staged for the open epoch; a primitive array, reused across epochs.
        long[] stagedGpas = new long[4096];
        int staged = 0;
        MemorySegment staging = arena.allocate(GuestMemory.PAGE_SIZE * 4096L, GuestMemory.PAGE_SIZE);
        byte[] stateBlob = null;
        long epoch = 0;
        try {
            RecordReader in = RecordReader.of(new BufferedInputStream(socket.getInputStream(), 1 << 16), StreamDirection.FORWARD,
                    StreamLimits.defaults());
            StreamHeader header = in.readHeader();
            List<StreamHeader.Region> regions = new ArrayList<>();
            for (RamRegion r : ram.layout()) regions.add(new StreamHeader.Region(r.guestAddress(), r.size()));
            header.requireCompatible(ConfigToml.digest(config), regions);
            if (header.startEpoch() < 1) throw new IOException("stream starts at epoch " + header.startEpoch());
            for (EpochDiskBuffer b : diskBuffers) b.restartAt(header.startEpoch() - 1);
            synchronized (this) {
                back = new RecordWriter(new BufferedOutputStream(socket.getOutputStream()), StreamLimits.defaults(),
                        PageEncoder.create(PageEncoder.Policy.FAST));
                back.writeBackHeader(new BackHeader(header.sessionId()));
                for (int d = 0; d < trackers.size(); d++) {
                    DiskSyncMeta m = trackers.get(d).report();
                    back.writeDiskState(d, m.lineage(), m.syncedEpoch(), m.extentBytes(), m.activityLog());
                }
                back.flush();
            }
            boolean[] announced = new boolean[trackers.size()];
            boolean firstCommit = true;
            boolean announcedSeed = false;
            for (RecordView r; (r = in.next()) != null; ) {
                lastHeardNanos = System.nanoTime();
                switch (r.type()) {
                    case PRECOPY_ROUND -> {
                        if (!announcedSeed) status.accept("backup: receiving the seed");
                        announcedSeed = true;
                    }
                    case CHECKPOINT_BEGIN -> {
                        epoch = r.epoch();
                        staged = 0;
                        stateBlob = null;
                    }
                    case PAGE_DATA -> {
                        PageBatchView pages = r.pages();
                        while (pages.next()) {
                            long gpa = pages.gfn() << 12;
                            if (!in.inEpoch()) {
                                pages.decodeInto(decoder, ram.page(gpa)); // seed: no committed state yet
                                continue;
                            }
                            int k = staged;
                            if ((long) (k + 1) * GuestMemory.PAGE_SIZE > staging.byteSize()) {
                                MemorySegment bigger = arena.allocate(staging.byteSize() * 2, GuestMemory.PAGE_SIZE);
                                MemorySegment.copy(staging, 0, bigger, 0, staging.byteSize());
                                staging = bigger;
                            }
                            MemorySegment slot = staging.asSlice((long) k * GuestMemory.PAGE_SIZE, GuestMemory.PAGE_SIZE);
                            MemorySegment.copy(ram.page(gpa), 0, slot, 0, GuestMemory.PAGE_SIZE); // the delta's base
                            pages.decodeInto(decoder, slot);
                            if (k == stagedGpas.length) stagedGpas = java.util.Arrays.copyOf(stagedGpas, k * 2);
                            stagedGpas[staged++] = gpa;
                        }
                    }
                    case VM_STATE -> stateBlob = r.blob().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                    case DISK_RESYNC -> {
                        int d = r.disk();
                        if (d < 0 || d >= trackers.size() || announced[d]) throw new IOException("DISK_RESYNC for disk " + d + " unexpected");
                        if (r.resyncDiskBytes() != diskImages.get(d).sizeBytes()) {
                            throw new IOException("disk " + d + " is " + r.resyncDiskBytes() + " bytes on the primary, "
                                    + diskImages.get(d).sizeBytes() + " here");
                        }
                        if (r.lineage() == null) throw new IOException("DISK_RESYNC for disk " + d + " carries no lineage");
                        announced[d] = true;
                        trackers.get(d).resyncAnnounced(r.lineage(), r.resyncFull());
                        if (r.resyncFull()) diskImages.get(d).zeroAll();
                        status.accept("backup: disk " + d + (r.resyncFull() ? ": full copy" : ": resync of " + (r.resyncBytes() >> 10)
                                + " KiB since epoch " + r.syncEpoch()));
                    }
                    case DISK_WRITE -> {
                        int d = r.disk();
                        if (d < 0 || d >= diskBuffers.size()) throw new IOException("DISK_WRITE for disk " + d + ", this VM has " + diskBuffers.size());
                        if (in.inEpoch()) {
                            diskBuffers.get(d).add(epoch, r.sector(), r.data());
                        } else {
                            if (!announced[d]) throw new IOException("seed DISK_WRITE for disk " + d + " before its DISK_RESYNC");
                            long off = r.sector() * 512;
                            if (off < 0 || off + r.dataLength() > diskImages.get(d).sizeBytes()) {
                                throw new IOException("seed DISK_WRITE outside disk " + d);
                            }
                            diskImages.get(d).write(off, r.data().asByteBuffer());
                        }
                    }
                    case CHECKPOINT_END -> {
                        if (stateBlob == null) throw new IOException("checkpoint " + epoch + " carries no VM state");
                        VmSnapshotState state = StateBlob.decode(stateBlob); // validated before anything is applied
                        state.validate(config.vcpus());
                        for (int k = 0; k < staged; k++) {
                            MemorySegment.copy(staging, (long) k * GuestMemory.PAGE_SIZE, ram.page(stagedGpas[k]), 0, GuestMemory.PAGE_SIZE);
                        }
                        if (firstCommit) {
                            for (int d = 0; d < announced.length; d++) {
                                if (!announced[d]) throw new IOException("first checkpoint " + epoch + " but disk " + d + " was never seeded");
                            }
                        }
                        for (EpochDiskBuffer b : diskBuffers) b.commit(epoch); // durable before the ack
                        for (DiskSyncTracker t : trackers) t.committed(epoch); // the first one is durable before the ack
                        committedState = state;
                        committedEpoch = epoch;
                        if (firstCommit) status.accept("backup: first checkpoint committed; the VM is protected (epoch " + epoch + ")");
                        firstCommit = false;
                        sendAck(epoch);
                        staged = 0;
                    }
                    case STREAM_END -> primaryFinished = true;
                    default -> {
                    }
                }
            }
        } catch (IOException | SnapshotException | DiskReplicationException | RuntimeException e) {
            if (!streamOver) {
                log.warn("replication stream refused: {}", e.getMessage());
                status.accept("backup: stream refused (" + e.getMessage() + "); keeping committed epoch " + committedEpoch);
                for (EpochDiskBuffer b : diskBuffers) {
                    try {
                        b.discard(committedEpoch + 1);
                    } catch (DiskReplicationException ignored) {
                        // nothing was open
                    }
                }
                synchronized (this) {
                    try {
                        if (back != null) {
                            back.writeError(1, String.valueOf(e.getMessage()));
                            back.flush();
                        }
                    } catch (IOException ignored) {
                        // the link may be gone
                    }
                }
            }
        } finally {
            // Between commits the disk holds the committed epoch: record it, unless a commit failed half-way.
            if (diskBuffers.stream().noneMatch(EpochDiskBuffer::failed)) {
                for (DiskSyncTracker t : trackers) {
                    try {
                        t.close();
                    } catch (IOException e) {
                        log.warn("disk sync state not saved: {}", e.getMessage());
                    }
                }
            }
            streamOver = true;
        }
    }

    /**
     * Frees the RAM image (RAM-sized) once {@link #run} is over: a takeover has copied it into the
     * restored VM, and every other outcome discards it. A long-lived node makes a new Backup per
     * standby period and must not keep the old ones' images. The receiver ends once the socket
     * is closed; should it not within the bound, the image is kept (and said) rather than freed
     * under it.
     */
    private void releaseImage() {
        closeQuietly();
        Thread r = receiver;
        try {
            if (r != null) r.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        if (r == null || !r.isAlive()) {
            arena.close();
        } else {
            log.warn("the replication receiver did not end; keeping its RAM image allocated");
        }
    }

    /** One primary per backup: any later peer is turned away (authenticated or not), saying why. */
    private void refuseOthers() {
        while (!streamOver && !finished) {
            try {
                Socket other = acceptor.accept();
                status.accept("backup: refused a second primary from " + other.getRemoteSocketAddress() + " (one is connected)");
                other.close();
            } catch (java.net.SocketTimeoutException e) {
                // nobody knocked; look at the flags again
            } catch (IOException e) {
                if (streamOver || finished || abandoned) return;
                if (e instanceof java.net.SocketException && String.valueOf(e.getMessage()).contains("closed")) return; // listener closed
                status.accept("backup: refused a peer: " + e.getMessage());
            }
        }
    }

    /** Accepts the primary's connection, authenticated (mutual TLS in production). */
    public interface PeerAcceptor {
        /** Blocks for the next peer; throws if it could not be authenticated. */
        Socket accept() throws IOException;

        /** Where it listens, for messages. */
        String describe();
    }

    private void closeQuietly() {
        try {
            Socket s = socket;
            if (s != null) s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }
}
