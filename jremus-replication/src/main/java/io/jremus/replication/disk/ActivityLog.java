package io.jremus.replication.disk;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.UUID;
import java.util.function.LongSupplier;

/**
 * The primary's activity log (DRBD's "AL"): the set of <em>hot</em> extents (1 MiB by default)
 * that the guest wrote in epochs the backup has not acknowledged yet, kept durable in the disk's
 * {@link DiskSyncMeta} file so that after a crash of this node its disk can rejoin as a backup and
 * be resynced in part: the file's {@code (syncedEpoch, activityLog)} always covers every block
 * that may differ from the lineage's committed content at {@code syncedEpoch}.
 *
 * <p>How that holds: {@link #beforeWrite} runs before the guest's data reaches the disk; a write
 * to an extent that is not hot makes it hot and rewrites the file durably before returning
 * (one fsync per newly hot extent, none for writes to hot extents). {@link #acked} cools the
 * extents whose last write is in an acknowledged epoch in memory only; the file is rewritten
 * with the smaller set lazily (at the next hot-set addition, or when {@link #maybeFlush} finds it
 * older than the flush interval). So the file's set is always a superset of the in-memory set,
 * and its syncedEpoch never ahead of the acknowledged one. Writes to the file are serialised
 * (an older snapshot never overwrites a newer one).
 */
public final class ActivityLog {
    private final Path file;
    private final long extentBytes;
    private final int extentShift;
    private final LongSupplier nanoTime;
    private final long flushEveryNanos;
    private final java.util.TreeMap<Long, Long> hot = new java.util.TreeMap<>(); // extent → last epoch written
    private UUID lineage;
    private UUID parentLineage;
    private long parentEpoch;
    private long acked;
    private boolean stale;
    private long lastPersistNanos;
    private long persists;

    /**
     * @param file       the meta file
     * @param start      what the disk holds now: lineage, syncedEpoch (the acked epoch to start
     *                   from) and hot extents (kept hot: they may still differ)
     * @param flushEvery how stale the file may be after extents cooled
     */
    public ActivityLog(Path file, DiskSyncMeta start, java.time.Duration flushEvery, LongSupplier nanoTime) {
        if (!start.known()) throw new IllegalArgumentException("an activity log needs a known synced epoch, not " + start);
        this.file = file;
        this.extentBytes = start.extentBytes();
        this.extentShift = Long.numberOfTrailingZeros(extentBytes);
        this.nanoTime = nanoTime;
        this.flushEveryNanos = flushEvery.toNanos();
        this.lineage = start.lineage();
        this.parentLineage = start.parentLineage();
        this.parentEpoch = start.parentEpoch();
        this.acked = start.syncedEpoch();
        // Inherited hot extents (this node crashed while they were hot) cool once an epoch after
        // the synced one is acknowledged: the seed before that first epoch resends them in full.
        for (long e : start.activityLog()) hot.put(e, start.syncedEpoch() + 1);
        this.lastPersistNanos = nanoTime.getAsLong();
    }

    /**
     * Called before {@code length} bytes at {@code offset} reach the disk, in {@code openEpoch}.
     * Returns once every extent they touch is hot in the file.
     *
     * @throws UncheckedIOException if the file could not be written (the write must then fail)
     */
    public synchronized void beforeWrite(long offset, long length, long openEpoch) {
        if (length <= 0) return;
        boolean added = false;
        for (long x = offset >>> extentShift; x <= (offset + length - 1) >>> extentShift; x++) {
            Long last = hot.get(x);
            if (last == null) added = true;
            hot.put(x, last == null ? openEpoch : Math.max(last, openEpoch));
        }
        if (added) {
            try {
                persist();
            } catch (IOException e) {
                throw new UncheckedIOException("activity log " + file + " not updated: " + e.getMessage(), e);
            }
        }
    }

    /** The backup acknowledged {@code epoch}: extents last written in it or before are cold now (file: lazily). */
    public synchronized void acked(long epoch) {
        if (epoch <= acked) return;
        acked = epoch;
        hot.values().removeIf(last -> last <= epoch);
        stale = true; // syncedEpoch moved, and maybe the set shrank
    }

    /** Rewrites the file if cooled extents or a newer ack are not in it and it is older than the interval. */
    public synchronized void maybeFlush() throws IOException {
        if (stale && nanoTime.getAsLong() - lastPersistNanos >= flushEveryNanos) persist();
    }

    /** Rewrites the file now if anything changed. */
    public synchronized void flush() throws IOException {
        if (stale) persist();
    }

    public synchronized DiskSyncMeta snapshot() {
        return new DiskSyncMeta(lineage, acked, hot.keySet().stream().mapToLong(Long::longValue).toArray(), extentBytes,
                parentLineage, parentEpoch);
    }

    private void persist() throws IOException {
        snapshot().write(file);
        stale = false;
        lastPersistNanos = nanoTime.getAsLong();
        persists++;
    }

    /** Durable rewrites of the file so far (each costs two fsyncs: file and directory). */
    public synchronized long persists() {
        return persists;
    }

    public synchronized int hotExtents() {
        return hot.size();
    }

    public synchronized long ackedEpoch() {
        return acked;
    }

    public long extentBytes() {
        return extentBytes;
    }
}
