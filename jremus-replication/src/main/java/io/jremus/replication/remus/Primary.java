package io.jremus.replication.remus;

import io.jremus.replication.disk.DiskSyncMeta;
import io.jremus.replication.disk.DiskSyncTracker;
import io.jremus.replication.disk.DiskWrite;
import io.jremus.replication.disk.ResyncPlan;
import io.jremus.replication.disk.ReplicatingBlockListener;
import io.jremus.replication.failover.Arbiter;
import io.jremus.replication.failover.Grant;
import io.jremus.replication.failover.Role;
import io.jremus.replication.netbuf.BufferedOutputGate;
import io.jremus.replication.netbuf.FrameSink;
import io.jremus.replication.state.StateBlob;
import io.jremus.replication.stream.BackHeader;
import io.jremus.replication.stream.RecordReader;
import io.jremus.replication.stream.RecordType;
import io.jremus.replication.stream.RecordView;
import io.jremus.replication.stream.RecordWriter;
import io.jremus.replication.stream.StreamDirection;
import io.jremus.replication.stream.StreamHeader;
import io.jremus.replication.stream.StreamLimits;
import io.jremus.replication.stream.page.PageEncoder;
import io.jremus.vmm.Vm;
import io.jremus.vmm.devices.virtio.VirtioMmioTransport;
import io.jremus.vmm.devices.virtio.blk.VirtioBlkDevice;
import io.jremus.vmm.devices.virtio.net.VirtioNetDevice;
import io.jremus.vmm.memory.DirtyPages;
import io.jremus.vmm.memory.GuestMemory;
import io.jremus.vmm.memory.MemoryRegion;
import io.jremus.vmm.snapshot.VmSnapshotState;
import io.jremus.vmm.snapshot.format.ConfigToml;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * The primary side of Remus for one running VM: seeds the backup live, then checkpoints every
 * epoch and releases each epoch's network output only when the backup acknowledged it.
 *
 * <pre>
 *  seed:   PRECOPY rounds while the guest runs (all RAM, then what it dirtied; every disk)
 *  epoch N (checkpoint thread):
 *     pause vCPUs + device threads ─► harvest dirty pages (KVM log ∪ VMM bitmap) ─► copy them
 *     to a staging buffer ─► capture vCPU/VM/device state ─► net barrier (postSuspend closes
 *     output epoch N) and disk barrier ─► resume ─► send BEGIN(N) pages state disk END(N)
 *  ACK(N) (back-channel thread): release output of epochs ≤ N to the TAP
 * </pre>
 *
 * The seed resyncs each disk in part when the backup's copy allows it (see {@link ResyncPlan}):
 * the backup reports what its copy holds (DISK_STATE) before the seed; the disks' trackers
 * ({@link DiskSyncTracker}, installed on the devices for as long as the VM runs, protected or
 * not) know what changed since which epoch. Epochs are numbered from
 * {@link RemusOptions#firstEpoch()}, or from the disks' open epoch if that is later.
 *
 * If the backup goes silent for {@link RemusOptions#peerTimeout()}, the primary asks the
 * arbiter to run alone; granted, it releases held output and continues unprotected, saying so;
 * refused, it stops the VM (invariant 5). Output stays held while it asks.
 */
public final class Primary {
    private static final Logger log = LoggerFactory.getLogger(Primary.class);

    /** How the primary ended. */
    public enum Outcome {
        /** The VM stopped by itself (powered off) while protected. */
        VM_STOPPED,
        /** The backup was lost; the arbiter let this node run alone; the VM ran until it stopped. */
        RAN_UNPROTECTED,
        /** The arbiter refused: another instance is active; this VM was stopped. */
        REFUSED,
        /**
         * The backup was lost and the arbiter let this node run alone; with {@link #returnWhenAlone}
         * the primary returns at once, the VM still running with output passing, so the caller
         * can protect it again with a new backup.
         */
        ALONE,
        /**
         * {@link #requestHandover} was served: the last epoch was checkpointed with the VM left
         * paused and the backup acknowledged it; the caller stops this VM and the backup's node
         * resumes from that epoch (a planned switchover).
         */
        HANDED_OVER
    }

    private final Vm vm;
    private final Socket socket;
    private final Arbiter arbiter;
    private final RemusOptions options;
    private final Consumer<String> status;
    private final List<BufferedOutputGate> gates = new ArrayList<>();
    private final List<ReplicatingBlockListener> disks = new ArrayList<>();
    private final List<List<DiskWrite>> closedWrites = new ArrayList<>();
    private final List<Path> diskPaths = new ArrayList<>();
    private final List<DiskSyncTracker> trackers = new ArrayList<>();
    private final List<ResyncPlan> plans = new ArrayList<>();
    private final long firstEpoch;
    private final RemusStats stats = new RemusStats();
    private final Arena arena = Arena.ofShared();
    private final ShadowMemory shadow;
    private RecordWriter writer;
    private MemorySegment staging;
    private long[] stagedGpas = new long[0];
    private volatile long lastHeardNanos = System.nanoTime();
    private volatile long lastAcked;
    private volatile String peerLost;
    private volatile boolean earlyRequested;
    private volatile boolean handoverRequested;
    private volatile long lastEpochSent;
    private volatile long seedNanos;
    private boolean returnWhenAlone;
    private Duration handoverAckTimeout = Duration.ofSeconds(5);
    private long term;
    private long nextRenewNanos;
    private long lastSentNanos;
    private long heartbeatSeq;

    public Primary(Vm vm, Socket socket, Arbiter arbiter, RemusOptions options, Consumer<String> status) throws IOException {
        this.vm = vm;
        this.socket = socket;
        this.arbiter = arbiter;
        this.options = options;
        this.status = status;
        this.shadow = new ShadowMemory(ShadowMemory.layoutOf(vm.memory().regions()), arena);
        this.staging = arena.allocate(GuestMemory.PAGE_SIZE * 1024L, GuestMemory.PAGE_SIZE);
        int diskIndex = 0;
        long first = options.firstEpoch();
        List<VirtioBlkDevice> blks = new ArrayList<>();
        for (VirtioMmioTransport t : vm.virtioTransports()) {
            if (t.device() instanceof VirtioBlkDevice blk) {
                // A tracker already on the device (a VM taken over, or a second session) keeps
                // its clock; otherwise the disk was booted cold here and gets one now.
                DiskSyncTracker tracker = DiskSyncTracker.of(blk);
                if (tracker == null) {
                    tracker = DiskSyncTracker.openForPrimary(vm.config().disks().get(blks.size()).path(), blk.capacitySectors() * 512, status);
                    tracker.attach(blk);
                }
                trackers.add(tracker);
                blks.add(blk);
                first = Math.max(first, tracker.openEpoch());
            }
        }
        this.firstEpoch = first;
        for (DiskSyncTracker tracker : trackers) tracker.startEpoch(firstEpoch);
        for (VirtioMmioTransport t : vm.virtioTransports()) {
            switch (t.device()) {
                case VirtioNetDevice net -> {
                    BufferedOutputGate g = new BufferedOutputGate(FrameSink.of(net.tap()), options.netBufferBytes(), System::nanoTime, firstEpoch);
                    g.passThrough(true); // unprotected until the first checkpoint
                    net.setOutputGate(g);
                    gates.add(g);
                }
                case VirtioBlkDevice blk -> {
                    int index = diskIndex++;
                    closedWrites.add(new ArrayList<>());
                    DiskSyncTracker tracker = trackers.get(index);
                    ReplicatingBlockListener l = new ReplicatingBlockListener(blk.capacitySectors() * 512, options.diskEpochBytes(),
                            (epoch, writes) -> {
                                tracker.epochClosed(epoch);
                                closedWrites.set(index, writes);
                            }, () -> earlyRequested = true, firstEpoch);
                    tracker.setDownstream(l);
                    disks.add(l);
                    diskPaths.add(vm.config().disks().get(index).path());
                }
                default -> {
                }
            }
        }
    }

    /** The number of this session's first checkpoint. */
    public long firstEpoch() {
        return firstEpoch;
    }

    public RemusStats stats() {
        return stats;
    }

    /**
     * When the backup is lost and the arbiter grants running alone, return {@link Outcome#ALONE}
     * at once (VM running, output passing) instead of running until the VM stops.
     */
    public Primary returnWhenAlone(boolean value) {
        this.returnWhenAlone = value;
        return this;
    }

    /**
     * Asks the running primary to hand over: at its next loop turn it pauses the VM, sends a last
     * checkpoint, waits up to {@code ackTimeout} for its acknowledgement and returns
     * {@link Outcome#HANDED_OVER} with the VM paused. Output of that epoch is released on the
     * ACK, as always. If the backup does not acknowledge in time, {@link #run} throws and the
     * VM stays paused: nothing unacknowledged was released.
     */
    public void requestHandover(Duration ackTimeout) {
        this.handoverAckTimeout = ackTimeout;
        this.handoverRequested = true;
    }

    /**
     * Drops the replication link at once, without STREAM_END: the backup keeps its committed
     * image (for a stop that is not the guest powering off). {@link #run} then fails or
     * arbitrates as for any lost link.
     */
    public void abortLink() {
        if (peerLost == null) peerLost = "replication link dropped by this node";
        try {
            socket.setSoLinger(true, 0);
        } catch (IOException ignored) {
            // already closed
        }
        closeQuietly();
    }

    /** How long the seed took, to the first checkpoint sent (0 until then). */
    public long seedMillis() {
        return seedNanos / 1_000_000;
    }

    /** The last epoch this primary sent (0 before the first checkpoint). */
    public long lastEpochSent() {
        return lastEpochSent;
    }

    /** The last epoch the backup acknowledged (0 before the first ACK). */
    public long lastAcked() {
        return lastAcked;
    }

    /**
     * Runs until the VM stops, the primary goes on alone and the VM stops, or the arbiter refuses.
     * Once only: it releases the shadow of guest RAM when it returns, so that a long-lived node
     * protecting one VM with one backup after another does not keep a RAM-sized copy per session.
     */
    public Outcome run() throws IOException, InterruptedException {
        try {
            return runSession();
        } finally {
            detachDisks();
            arena.close(); // shadow and staging; only this thread used them
        }
    }

    /**
     * Stops copying guest writes for the stream: once no backup will take them, they would pile
     * up in the open epoch for as long as the VM runs. The trackers stay (activity log, write
     * clock), so a later backup is still resynced in part.
     */
    private void detachDisks() {
        for (DiskSyncTracker t : trackers) t.setDownstream(null);
    }

    private Outcome runSession() throws IOException, InterruptedException {
        // A primary boots (or restores) the VM itself, so it starts from the current term rather
        // than from a replicated image: learn the term, then claim the primary role for it.
        Grant current = arbiter.request(options.vmId(), options.node(), Role.STANDBY, 0, Duration.ofSeconds(5));
        long startTerm = current.outcome() == Grant.Outcome.UNREACHABLE ? 0 : current.term();
        Grant g = arbiter.request(options.vmId(), options.node(), Role.PRIMARY, startTerm, Duration.ofSeconds(5));
        if (!g.granted()) {
            vm.stop("arbiter refused the primary role: " + g);
            throw new IOException("the arbiter did not grant " + options.node() + " the primary role for " + options.vmId() + ": " + g);
        }
        term = g.term();
        nextRenewNanos = System.nanoTime() + arbiter.lease().toNanos() / 3;
        writer = new RecordWriter(new BufferedOutputStream(socket.getOutputStream(), 1 << 16), StreamLimits.defaults(),
                PageEncoder.create(PageEncoder.Policy.FAST));
        List<StreamHeader.Region> regions = new ArrayList<>();
        for (MemoryRegion r : vm.memory().regions()) regions.add(new StreamHeader.Region(r.guestAddress(), r.size()));
        UUID session = UUID.randomUUID();
        writer.writeHeader(new StreamHeader(session, firstEpoch, ConfigToml.digest(vm.config()), regions));
        writer.flush();
        RecordReader back = RecordReader.of(new BufferedInputStream(socket.getInputStream()), StreamDirection.BACK, StreamLimits.defaults());
        back.readBackHeader(session);
        readDiskStates(back);
        lastHeardNanos = System.nanoTime(); // the backup answered: its silence counts from now
        Thread reader = Thread.ofPlatform().name("remus-acks").daemon(true).start(() -> readAcks(back));

        // The watchdog covers the seed too: a link that dies while seeding must not hang the
        // primary in a blocked send; the guest keeps running (unprotected, as during any seed).
        Thread watchdog = Thread.ofPlatform().name("remus-watchdog").daemon(true).start(this::watchLink);
        long epoch = firstEpoch;
        try {
            long seedStart = System.nanoTime();
            seed();
            checkpoint(epoch++, true);
            seedNanos = System.nanoTime() - seedStart;
        } catch (IOException e) {
            reader.interrupt();
            watchdog.interrupt();
            return goAlone("backup lost while seeding: " + (peerLost != null ? peerLost : e.getMessage()));
        }
        status.accept("protected: first checkpoint sent; epochs every " + options.interval().toMillis() + " ms" + (options.early() ? " (early mode)" : ""));
        stats.started();
        long next = System.nanoTime() + options.interval().toNanos();
        long last = System.nanoTime();
        while (!vm.machine().stopped().isDone()) {
            long now = System.nanoTime();
            if (peerLost != null || now - lastHeardNanos > options.peerTimeout().toNanos()) {
                reader.interrupt();
                watchdog.interrupt();
                return goAlone(peerLost != null ? peerLost : "no ack or heartbeat for " + (now - lastHeardNanos) / 1_000_000 + " ms");
            }
            if (handoverRequested) {
                watchdog.interrupt();
                return handOver(epoch);
            }
            renewIfDue(Role.PRIMARY);
            boolean early = (options.early() && outputWaiting() || earlyRequested) && now - last >= options.minInterval().toNanos();
            if (now >= next || early) {
                last = now;
                try {
                    checkpoint(epoch++, false);
                } catch (IOException e) {
                    // The backup is gone (closed, reset) or the watchdog cut a send that blocked
                    // on a dead link: the epoch's output stays held; the check above arbitrates.
                    if (peerLost == null) peerLost = "replication link failed: " + e.getMessage();
                    continue;
                }
                next = Math.max(next + options.interval().toNanos(), System.nanoTime() + options.minInterval().toNanos());
                continue;
            }
            if (now - lastSentNanos >= options.heartbeatEvery().toNanos()) {
                // Long epochs: keep the backup's failure detector fed between checkpoints.
                writer.writeHeartbeat(++heartbeatSeq, now);
                writer.flush();
                lastSentNanos = now;
            }
            long sleep = Math.min(next - now, options.early() ? 500_000 : options.heartbeatEvery().toNanos());
            Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
        }
        writer.writeStreamEnd();
        writer.flush();
        return Outcome.VM_STOPPED;
    }

    private boolean outputWaiting() {
        for (BufferedOutputGate g : gates) if (g.openEpochFrames() > 0) return true;
        return false;
    }

    /** Pre-copy while the guest runs: all of RAM and every disk, then rounds of what changed. */
    private void seed() throws IOException {
        vm.harvestDirtyPages(); // start tracking now; everything is sent once below
        long total = vm.memory().size() / GuestMemory.PAGE_SIZE;
        status.accept("seeding: " + (vm.memory().size() >> 20) + " MiB of RAM and " + diskPaths.size() + " disk(s) while the guest runs");
        writer.writePrecopyRound(0, total);
        long sent = 0;
        int lastPct = -1;
        for (MemoryRegion r : vm.memory().regions()) {
            for (long off = 0; off < r.size(); off += GuestMemory.PAGE_SIZE) {
                long gpa = r.guestAddress() + off;
                MemorySegment page = r.host().asSlice(off, GuestMemory.PAGE_SIZE);
                MemorySegment copy = shadow.page(gpa);
                MemorySegment.copy(page, 0, copy, 0, GuestMemory.PAGE_SIZE);
                writer.writePage(gpa >>> 12, copy, null);
                int pct = (int) (++sent * 100 / total);
                if (pct / 25 != lastPct / 25) {
                    status.accept("seeding: RAM " + pct + "%");
                    lastPct = pct;
                }
            }
        }
        for (int d = 0; d < diskPaths.size(); d++) seedDisk(d, diskPaths.get(d));
        for (int round = 1; round <= 4; round++) {
            DirtyPages dirty = vm.harvestDirtyPages();
            if (dirty.count() < 64) {
                // Few enough: they go with the first checkpoint. Put them back by sending them then.
                sendPagesLive(dirty, round);
                break;
            }
            sendPagesLive(dirty, round);
        }
        writer.flush();
    }

    private void sendPagesLive(DirtyPages dirty, int round) throws IOException {
        writer.writePrecopyRound(round, dirty.count());
        List<Long> gpas = new ArrayList<>();
        dirty.forEachPage(gpas::add);
        // The guest runs while this sends: snapshot each page first, so the bytes encoded are the
        // bytes the shadow (the delta base of every later send) records. Encoding the live page
        // and copying it afterwards let a write in between desynchronise shadow and backup.
        MemorySegment snap = arena.allocate(GuestMemory.PAGE_SIZE, GuestMemory.PAGE_SIZE);
        for (long gpa : gpas) {
            MemorySegment copy = shadow.page(gpa);
            MemorySegment.copy(vm.memory().slice(gpa, GuestMemory.PAGE_SIZE), 0, snap, 0, GuestMemory.PAGE_SIZE);
            writer.writePage(gpa >>> 12, snap, copy);
            MemorySegment.copy(snap, 0, copy, 0, GuestMemory.PAGE_SIZE);
        }
    }

    /** The backup's DISK_STATE per disk, then a resync plan for each. */
    private void readDiskStates(RecordReader back) throws IOException {
        for (int d = 0; d < trackers.size(); d++) {
            RecordView r = back.next();
            if (r == null || r.type() != RecordType.DISK_STATE || r.disk() != d) {
                throw new IOException("the backup did not report disk " + d + " (got " + r + "): not a version-2 backup, or another VM");
            }
            DiskSyncMeta reported;
            try {
                reported = new DiskSyncMeta(r.lineage(), r.syncEpoch(), r.extents(), r.extentBytes(), null, -1);
            } catch (IllegalArgumentException e) {
                throw new IOException("the backup's report of disk " + d + " is invalid: " + e.getMessage(), e);
            }
            plans.add(ResyncPlan.compute(d, trackers.get(d), firstEpoch - 1, reported));
        }
    }

    private void seedDisk(int index, Path path) throws IOException {
        ResyncPlan plan = plans.get(index);
        writer.writeDiskResync(index, plan.full(), plan.sinceEpoch(), trackers.get(index).lineage(), plan.bytes(), plan.diskBytes());
        status.accept("seeding: " + plan.describe());
        if (!plan.full()) {
            sendChunks(index, path, plan);
            return;
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
            MemorySegment seg = MemorySegment.ofBuffer(buf);
            long zero = 0;
            for (long off = 0; off < size; off += buf.capacity()) {
                buf.clear();
                int n = ch.read(buf, off);
                if (n <= 0) break;
                n -= n % 512;
                if (isZero(seg, n)) {
                    zero += n;
                    continue; // for a full copy the backup empties its image first (zeros)
                }
                writer.writeDiskWrite(index, off / 512, seg.asSlice(0, n));
                stats.resync(false, 0, n);
            }
            stats.resync(true, 0, 0);
            status.accept("seeding: disk " + index + " (" + (size >> 20) + " MiB, " + (zero >> 20) + " MiB zero, skipped)");
        }
    }

    /** A partial resync: the plan's chunks, contiguous ones coalesced into writes of up to 1 MiB. */
    private void sendChunks(int index, Path path, ResyncPlan plan) throws IOException {
        long[] chunks = plan.chunks();
        long size = plan.diskBytes();
        int cb = plan.chunkBytes();
        ByteBuffer buf = ByteBuffer.allocateDirect(Math.max(cb, 1 << 20));
        MemorySegment seg = MemorySegment.ofBuffer(buf);
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            for (int i = 0; i < chunks.length; ) {
                long start = chunks[i] * cb;
                int j = i + 1;
                while (j < chunks.length && chunks[j] == chunks[j - 1] + 1 && (long) (j - i + 1) * cb <= buf.capacity()) j++;
                long end = Math.min(size, (chunks[j - 1] + 1) * cb);
                buf.clear().limit((int) (end - start));
                while (buf.hasRemaining()) {
                    if (ch.read(buf, start + buf.position()) < 0) {
                        while (buf.hasRemaining()) buf.put((byte) 0); // past the file's end reads zero, as the device does
                    }
                }
                writer.writeDiskWrite(index, start / 512, seg.asSlice(0, end - start));
                stats.resync(false, j - i, end - start);
                i = j;
            }
        }
    }

    private static boolean isZero(MemorySegment s, int n) {
        for (int i = 0; i + 8 <= n; i += 8) if (s.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, i) != 0) return false;
        return true;
    }

    /** The last checkpoint of a planned switchover: the VM stays paused; returns once acknowledged. */
    private Outcome handOver(long epoch) throws IOException, InterruptedException {
        status.accept("handover: final checkpoint " + epoch + " with the VM paused");
        checkpoint(epoch, false, true);
        long deadline = System.nanoTime() + handoverAckTimeout.toNanos();
        while (lastAcked < epoch && peerLost == null && System.nanoTime() < deadline) Thread.sleep(1);
        if (lastAcked < epoch) {
            closeQuietly();
            throw new IOException("handover: the backup did not acknowledge the final epoch " + epoch
                    + (peerLost != null ? " (" + peerLost + ")" : " within " + handoverAckTimeout.toMillis() + " ms")
                    + "; the VM stays paused and its output held");
        }
        // No STREAM_END: the backup keeps the final epoch as its committed image and waits to be promoted.
        closeQuietly();
        status.accept("handover: epoch " + epoch + " acknowledged; the backup holds the VM's last state");
        return Outcome.HANDED_OVER;
    }

    /** One checkpoint: the guest is paused only for harvest, copy and state capture. */
    private void checkpoint(long epoch, boolean first) throws IOException {
        checkpoint(epoch, first, false);
    }

    private void checkpoint(long epoch, boolean first, boolean leavePaused) throws IOException {
        long t0 = System.nanoTime();
        vm.pause();
        DirtyPages dirty = vm.harvestDirtyPages();
        int n = (int) dirty.count();
        if (staging.byteSize() < (long) n * GuestMemory.PAGE_SIZE) {
            staging = arena.allocate(Math.max((long) n, staging.byteSize() / GuestMemory.PAGE_SIZE * 2) * GuestMemory.PAGE_SIZE, GuestMemory.PAGE_SIZE);
        }
        if (stagedGpas.length < n) stagedGpas = new long[Math.max(n, stagedGpas.length * 2)];
        int[] i = {0};
        MemorySegment stage = staging;
        dirty.forEachPage(gpa -> {
            MemorySegment.copy(vm.memory().slice(gpa, GuestMemory.PAGE_SIZE), 0, stage, (long) i[0] * GuestMemory.PAGE_SIZE, GuestMemory.PAGE_SIZE);
            stagedGpas[i[0]++] = gpa;
        });
        VmSnapshotState state = vm.captureState();
        for (BufferedOutputGate g : gates) {
            g.postSuspend();
            if (first) g.passThrough(false);
        }
        for (ReplicatingBlockListener l : disks) l.postSuspend();
        earlyRequested = false;
        if (!leavePaused) vm.resume();
        long pause = System.nanoTime() - t0;

        long before = writer.bytesWritten();
        writer.beginCheckpoint(epoch);
        for (int k = 0; k < n; k++) {
            long gpa = stagedGpas[k];
            MemorySegment page = stage.asSlice((long) k * GuestMemory.PAGE_SIZE, GuestMemory.PAGE_SIZE);
            MemorySegment copy = shadow.page(gpa);
            writer.writePage(gpa >>> 12, page, copy);
            MemorySegment.copy(page, 0, copy, 0, GuestMemory.PAGE_SIZE);
        }
        writer.writeVmState(MemorySegment.ofArray(StateBlob.encode(state)));
        long writes = 0;
        for (int d = 0; d < closedWrites.size(); d++) {
            for (DiskWrite w : closedWrites.get(d)) {
                writer.writeDiskWrite(d, w.sector(), w.segment());
                writes++;
            }
            closedWrites.set(d, new ArrayList<>());
        }
        writer.endCheckpoint();
        writer.flush();
        lastEpochSent = epoch;
        lastSentNanos = System.nanoTime();
        stats.epoch(pause, n, (long) n * GuestMemory.PAGE_SIZE, writer.bytesWritten() - before, writes);
    }

    private void readAcks(RecordReader back) {
        try {
            for (RecordView r; (r = back.next()) != null; ) {
                lastHeardNanos = System.nanoTime();
                switch (r.type()) {
                    case ACK -> {
                        long e = r.epoch();
                        lastAcked = e;
                        for (BufferedOutputGate g : gates) g.commit(e);
                        for (DiskSyncTracker t : trackers) {
                            try {
                                t.acked(e);
                            } catch (IOException ex) {
                                // Only the lazy rewrite failed: the file still covers more than needed.
                                log.warn("activity log not rewritten after ack {}: {}", e, ex.getMessage());
                            }
                        }
                    }
                    case ERROR -> peerLost = "backup reported error " + r.errorCode() + ": " + r.errorMessage();
                    default -> {
                    }
                }
            }
            if (peerLost == null) peerLost = "backup closed the replication stream";
        } catch (IOException | RuntimeException e) {
            if (peerLost == null) peerLost = "replication link failed: " + e.getMessage();
        }
    }

    /**
     * A send on a dead link (cut, host gone without a reset) blocks once the socket's buffers
     * are full, and the epoch loop with it. When the backup has been silent for the peer timeout
     * the watchdog closes the socket without lingering (no close_notify that would wait behind the
     * blocked writer), so the blocked send fails and the loop arbitrates.
     */
    private void watchLink() {
        try {
            while (true) {
                Thread.sleep(Math.max(5, options.heartbeatEvery().toMillis() / 2));
                long silent = System.nanoTime() - lastHeardNanos;
                if (peerLost != null || silent > options.peerTimeout().toNanos()) {
                    Thread.sleep(Math.max(5, options.heartbeatEvery().toMillis()));
                    silent = System.nanoTime() - lastHeardNanos;
                    if (peerLost == null && silent <= options.peerTimeout().toNanos()) continue; // it spoke meanwhile
                    if (peerLost == null) peerLost = "no ack or heartbeat for " + silent / 1_000_000 + " ms";
                    try {
                        socket.setSoLinger(true, 0);
                    } catch (IOException ignored) {
                        // already closed
                    }
                    closeQuietly();
                    return;
                }
            }
        } catch (InterruptedException e) {
            // the loop is arbitrating already
        }
    }

    private void renewIfDue(Role role) {
        long now = System.nanoTime();
        if (now < nextRenewNanos) return;
        Grant g = arbiter.request(options.vmId(), options.node(), role, term, Duration.ofMillis(200));
        nextRenewNanos = now + arbiter.lease().toNanos() / 3;
        if (g.outcome() == Grant.Outcome.REFUSED) {
            log.warn("lease renewal refused: {}", g);
            peerLost = "the arbiter refused to renew our lease (" + g.reason() + ")";
        }
    }

    /**
     * The backup is gone: hold output, ask to run alone. Granted: release what was held and run
     * unprotected. Refused: another instance is active, so stop (never two active instances).
     */
    private Outcome goAlone(String why) throws InterruptedException {
        status.accept("backup lost: " + why + "; asking the arbiter to continue alone (output held)");
        while (true) {
            Grant g = arbiter.request(options.vmId(), options.node(), Role.ACTIVE, term, Duration.ofSeconds(1));
            switch (g.outcome()) {
                case GRANTED -> {
                    term = g.term();
                    vm.pause();
                    for (BufferedOutputGate gate : gates) gate.passThrough(true);
                    detachDisks();
                    vm.resume();
                    closeQuietly();
                    status.accept("UNPROTECTED: arbiter granted term " + term + " (" + g.reason() + "); the VM keeps running without a backup");
                    if (returnWhenAlone) return Outcome.ALONE;
                    nextRenewNanos = System.nanoTime();
                    while (!vm.machine().stopped().isDone()) {
                        renewIfDue(Role.ACTIVE);
                        Thread.sleep(Math.max(10, arbiter.lease().toMillis() / 4));
                    }
                    return Outcome.RAN_UNPROTECTED;
                }
                case REFUSED -> {
                    for (BufferedOutputGate gate : gates) gate.discardUncommitted();
                    vm.stop("arbiter refused: " + g.reason());
                    closeQuietly();
                    status.accept("STOPPED: the arbiter refused (" + g.reason() + "); another instance is active");
                    return Outcome.REFUSED;
                }
                default -> Thread.sleep(Math.max(20, g.retryAfter() == null ? 100 : g.retryAfter().toMillis()));
            }
        }
    }

    private void closeQuietly() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // the link is already gone
        }
    }
}
