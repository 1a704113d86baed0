package io.jremus.replication.disk;

import io.jremus.vmm.devices.virtio.blk.BlockData;
import io.jremus.vmm.devices.virtio.blk.BlockWriteListener;
import io.jremus.vmm.devices.virtio.blk.VirtioBlk;
import io.jremus.vmm.devices.virtio.blk.VirtioBlkDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Everything a node keeps about one disk for resyncs, in either role, and across the change of
 * role at a takeover: the lineage, the {@link ChunkWriteClock} (what changed when) and the
 * durable {@link DiskSyncMeta} file; as a primary also the {@link ActivityLog}.
 *
 * <h2>As a primary</h2>
 * Installed as the disk's {@link BlockWriteListener} ({@link #attach}) for as long as the VM runs,
 * protected or not, with the replication listener (if any) chained behind it
 * ({@link #setDownstream}). {@link #beforeWrite} makes the extent hot in the activity log before
 * the data reaches the disk; {@link #written} stamps the chunks with the open epoch and passes the
 * write on. The checkpoint engine calls {@link #epochClosed} and {@link #acked}.
 *
 * <h2>As a backup</h2>
 * Every write to the backup's image goes through {@link #image()}: the first one after the
 * session started marks the file unknown (-1) durably before the disk changes; each write's
 * chunks are pending until {@link #committed} stamps them with the committed epoch. The first
 * commit after a seed adopts the primary's lineage and persists (lineage, epoch, no hot extents)
 * durably; later commits persist that at most every {@code persistEvery} (safe because the
 * primary's clock covers everything after an older synced epoch), and {@link #close} persists it
 * at the end.
 *
 * <h2>Takeover</h2>
 * {@link #becomePrimary} turns a backup's tracker into a primary's: same lineage and clock,
 * activity log starting at the committed epoch, open epoch = committed + 1. A disk opened cold
 * as a primary ({@link #openForPrimary}) forks a new lineage (see {@link DiskSyncMeta}).
 */
public final class DiskSyncTracker implements BlockWriteListener {
    /** Default lazy persist interval (backup) and cooled-extent flush interval (primary). */
    public static final Duration PERSIST_EVERY = Duration.ofSeconds(1);

    private final Path metaFile;
    private final long diskBytes;
    private final ChunkWriteClock clock;
    private final LongSupplier nanoTime;
    private final Duration persistEvery;
    private volatile BlockWriteListener downstream = BlockWriteListener.NONE;
    private final Object lock = new Object();
    // Guarded by lock.
    private UUID lineage;
    private UUID parentLineage;
    private long parentEpoch = -1;
    private long syncedEpoch; // backup: the committed epoch; primary: see the activity log
    private long persistedEpoch;
    private ActivityLog al; // null on a backup
    private long openEpoch;
    private boolean resyncing; // backup: the image was written since the last commit of a seed
    private boolean fullCopy;
    private UUID adopt;
    private long lastPersistNanos;
    private final DiskSyncMeta opened;

    private DiskSyncTracker(Path metaFile, long diskBytes, DiskSyncMeta meta, int chunkBytes, Duration persistEvery,
                            LongSupplier nanoTime) {
        this.metaFile = metaFile;
        this.diskBytes = diskBytes;
        this.opened = meta;
        this.nanoTime = nanoTime;
        this.persistEvery = persistEvery;
        this.clock = new ChunkWriteClock(diskBytes, chunkBytes, meta.syncedEpoch());
        for (long x : meta.activityLog()) clock.markUnknown(x * meta.extentBytes(), meta.extentBytes());
        this.lineage = meta.lineage();
        this.parentLineage = meta.parentLineage();
        this.parentEpoch = meta.parentEpoch();
        this.syncedEpoch = meta.syncedEpoch();
        this.persistedEpoch = meta.syncedEpoch();
        this.openEpoch = Math.max(1, meta.syncedEpoch() + 1);
        this.lastPersistNanos = nanoTime.getAsLong();
    }

    /** Reads the meta of {@code image}; a missing or refused file reads as unknown (the reason goes to {@code warn}). */
    public static DiskSyncMeta readMeta(Path image, Consumer<String> warn) {
        try {
            return DiskSyncMeta.read(DiskSyncMeta.pathFor(image)).orElse(DiskSyncMeta.unknown());
        } catch (DiskSyncMetaException e) {
            warn.accept(e.getMessage());
            return DiskSyncMeta.unknown();
        }
    }

    /** A backup's tracker for {@code image} as its meta file describes it. */
    public static DiskSyncTracker openForBackup(Path image, long diskBytes, Consumer<String> warn) {
        return new DiskSyncTracker(DiskSyncMeta.pathFor(image), diskBytes, readMeta(image, warn), ChunkWriteClock.DEFAULT_CHUNK_BYTES,
                PERSIST_EVERY, System::nanoTime);
    }

    /**
     * A primary's tracker for a disk booted cold. Without usable meta the disk starts a new
     * lineage at epoch 0. With meta (lineage L, synced S, hot extents) it forks: a new lineage
     * whose parent is L at S, epochs continuing from S + 1, the hot extents unknown in the clock.
     * The new meta is persisted before this returns (before the guest can write).
     */
    public static DiskSyncTracker openForPrimary(Path image, long diskBytes, Consumer<String> warn) throws IOException {
        DiskSyncMeta m = readMeta(image, warn);
        DiskSyncMeta start = m.known()
                ? new DiskSyncMeta(UUID.randomUUID(), m.syncedEpoch(), m.activityLog(), m.extentBytes(), m.lineage(), m.syncedEpoch())
                : DiskSyncMeta.newLineage();
        DiskSyncTracker t = new DiskSyncTracker(DiskSyncMeta.pathFor(image), diskBytes, start, ChunkWriteClock.DEFAULT_CHUNK_BYTES,
                PERSIST_EVERY, System::nanoTime);
        synchronized (t.lock) {
            t.al = new ActivityLog(t.metaFile, start, PERSIST_EVERY, t.nanoTime);
            start.write(t.metaFile);
        }
        return t;
    }

    /** For tests: explicit chunk size, intervals and clock. */
    public static DiskSyncTracker forTest(Path metaFile, long diskBytes, DiskSyncMeta meta, int chunkBytes, Duration persistEvery,
                                          LongSupplier nanoTime, boolean primary) {
        DiskSyncTracker t = new DiskSyncTracker(metaFile, diskBytes, meta, chunkBytes, persistEvery, nanoTime);
        if (primary) t.al = new ActivityLog(metaFile, meta, persistEvery, nanoTime);
        return t;
    }

    /** The tracker installed on {@code blk}, or null. */
    public static DiskSyncTracker of(VirtioBlkDevice blk) {
        return blk.writeListener() instanceof DiskSyncTracker t ? t : null;
    }

    /** Installs this tracker as the device's listener (keeping any downstream already set here). */
    public void attach(VirtioBlkDevice blk) {
        blk.setWriteListener(this);
    }

    /**
     * Takeover: this backup's disk holds committed epoch {@code committedEpoch}; from now on the
     * guest writes it. Keeps lineage and clock; starts the activity log at that epoch and
     * persists (lineage, committed, no hot extents) durably.
     */
    public void becomePrimary(long committedEpoch) throws IOException {
        synchronized (lock) {
            if (lineage == null || resyncing) throw new IOException("disk " + metaFile + " holds no committed epoch of a lineage; cannot become primary");
            syncedEpoch = committedEpoch;
            DiskSyncMeta m = new DiskSyncMeta(lineage, committedEpoch, new long[0], DiskSyncMeta.DEFAULT_EXTENT_BYTES, parentLineage, parentEpoch);
            m.write(metaFile);
            persistedEpoch = committedEpoch;
            al = new ActivityLog(metaFile, m, persistEvery, nanoTime);
            openEpoch = committedEpoch + 1;
        }
    }

    // ---- primary ------------------------------------------------------------------------------

    public void setDownstream(BlockWriteListener l) {
        downstream = l == null ? BlockWriteListener.NONE : l;
    }

    @Override
    public void beforeWrite(long sector, long length) {
        ActivityLog a;
        long epoch;
        synchronized (lock) {
            a = al;
            epoch = openEpoch;
        }
        if (a != null) a.beforeWrite(sector << VirtioBlk.SECTOR_SHIFT, length, epoch);
    }

    @Override
    public void written(long sector, long length, BlockData data) {
        long epoch;
        synchronized (lock) {
            epoch = openEpoch;
        }
        clock.stamp(sector << VirtioBlk.SECTOR_SHIFT, length, epoch);
        downstream.written(sector, length, data);
    }

    @Override
    public void flushed() {
        downstream.flushed();
    }

    /** The epoch guest writes are stamped with now. */
    public long openEpoch() {
        synchronized (lock) {
            return openEpoch;
        }
    }

    /**
     * Sets the open epoch (a primary whose numbering starts at {@code epoch}); epochs never go back.
     */
    public void startEpoch(long epoch) {
        synchronized (lock) {
            if (epoch < openEpoch) throw new IllegalArgumentException("epoch " + epoch + " is before the open epoch " + openEpoch + " of " + metaFile);
            openEpoch = epoch;
        }
    }

    /** Checkpoint {@code epoch} closed (VM paused): later writes belong to {@code epoch + 1}. */
    public void epochClosed(long epoch) {
        synchronized (lock) {
            openEpoch = Math.max(openEpoch, epoch + 1);
        }
    }

    /** The backup acknowledged {@code epoch}: cools extents; rewrites the file if it is due. */
    public void acked(long epoch) throws IOException {
        ActivityLog a;
        synchronized (lock) {
            a = al;
        }
        if (a == null) return;
        a.acked(epoch);
        a.maybeFlush();
    }

    // ---- backup -------------------------------------------------------------------------------

    /** What this disk holds, as the backup reports it to a primary. */
    public DiskSyncMeta report() {
        synchronized (lock) {
            if (al != null) return al.snapshot();
            if (resyncing) return DiskSyncMeta.unknown();
            return lineage == null || syncedEpoch < 0 ? DiskSyncMeta.unknown()
                    : new DiskSyncMeta(lineage, syncedEpoch, opened.syncedEpoch() == syncedEpoch ? opened.activityLog() : new long[0],
                    opened.extentBytes(), parentLineage, parentEpoch);
        }
    }

    /**
     * The primary announced the seed of this disk: its lineage, and whether it copies in full
     * (the image is then emptied first, through {@link #image()}).
     */
    public void resyncAnnounced(UUID primaryLineage, boolean full) {
        synchronized (lock) {
            adopt = primaryLineage;
            fullCopy = full;
        }
    }

    /** Wraps the backup's image so that every write is tracked (see the class comment). */
    public TrackedImage image(DiskImage inner) {
        return new TrackedImage(inner);
    }

    /**
     * Epoch {@code epoch} committed (its writes are durable). Stamps what was written since the
     * last commit; the first commit after a seed adopts the lineage and persists durably.
     */
    public void committed(long epoch) throws IOException {
        synchronized (lock) {
            if (adopt != null) {
                clock.stampPending(epoch, fullCopy);
                lineage = adopt;
                parentLineage = null;
                parentEpoch = -1;
                syncedEpoch = epoch;
                persist();
                adopt = null;
                resyncing = false;
            } else {
                clock.stampPending(epoch, false);
                syncedEpoch = epoch;
                if (nanoTime.getAsLong() - lastPersistNanos >= persistEvery.toNanos()) persist();
            }
        }
    }

    /** Persists the committed state if it moved (clean exit, or the stream ended between epochs). */
    public void close() throws IOException {
        synchronized (lock) {
            if (al != null) {
                al.flush();
            } else if (!resyncing && lineage != null && syncedEpoch != persistedEpoch) {
                persist();
            }
        }
    }

    private void persist() throws IOException {
        new DiskSyncMeta(lineage, syncedEpoch, new long[0], DiskSyncMeta.DEFAULT_EXTENT_BYTES, parentLineage, parentEpoch).write(metaFile);
        persistedEpoch = syncedEpoch;
        lastPersistNanos = nanoTime.getAsLong();
    }

    private void beforeImageWrite() throws IOException {
        synchronized (lock) {
            // After the first commit: a normal epoch's commit, which the primary's clock covers.
            if (resyncing || adopt == null) return;
            // The first write of a seed: the image stops being any epoch's until the first commit.
            DiskSyncMeta.unknown().write(metaFile);
            persistedEpoch = -1;
            resyncing = true;
        }
    }

    // ---- shared -------------------------------------------------------------------------------

    public ChunkWriteClock clock() {
        return clock;
    }

    public UUID lineage() {
        synchronized (lock) {
            return lineage;
        }
    }

    public UUID parentLineage() {
        synchronized (lock) {
            return parentLineage;
        }
    }

    public long parentEpoch() {
        synchronized (lock) {
            return parentEpoch;
        }
    }

    /** Primary: the activity log (null on a backup). */
    public ActivityLog activityLog() {
        synchronized (lock) {
            return al;
        }
    }

    public long diskBytes() {
        return diskBytes;
    }

    public Path metaFile() {
        return metaFile;
    }

    /** The backup's image with every write tracked: pending in the clock until the next commit. */
    public final class TrackedImage implements DiskImage {
        private final DiskImage inner;

        private TrackedImage(DiskImage inner) {
            this.inner = inner;
        }

        @Override
        public long sizeBytes() {
            return inner.sizeBytes();
        }

        @Override
        public void write(long offset, ByteBuffer data) throws IOException {
            beforeImageWrite();
            clock.markPending(offset, data.remaining());
            inner.write(offset, data);
        }

        /** A full copy starts from zeros: empties the image (after marking the meta unknown). */
        public void zeroAll() throws IOException {
            beforeImageWrite();
            clock.reset();
            if (inner instanceof FileDiskImage f) {
                f.zeroAll();
            } else {
                ByteBuffer z = ByteBuffer.allocate(1 << 20);
                for (long off = 0; off < inner.sizeBytes(); off += z.capacity()) {
                    z.clear().limit((int) Math.min(z.capacity(), inner.sizeBytes() - off));
                    inner.write(off, z);
                }
            }
        }

        @Override
        public void sync() throws IOException {
            inner.sync();
        }

        @Override
        public void close() throws IOException {
            inner.close();
        }
    }
}
