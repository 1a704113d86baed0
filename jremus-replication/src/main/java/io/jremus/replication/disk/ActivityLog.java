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
 * (one durable rewrite per newly hot extent, none for writes to hot extents). {@link #acked}
 * marks the extents whose last write is in an acknowledged epoch cold, in memory only; a cold
 * extent stays in the set (a superset is always safe) until it has stayed cold for the flush
 * interval, so an extent the guest keeps writing (a log, a journal) is not re-added, at the cost
 * of a rewrite, after every acknowledgement. {@link #maybeFlush} drops such extents and rewrites
 * the file with the newer acknowledged epoch at most once per interval. So the file's set is
 * always a superset of the in-memory set, and its syncedEpoch never ahead of the acknowledged
 * one. Writes to the file are serialised (an older snapshot never overwrites a newer one).
 */
public final class ActivityLog {
    private final Path file;
    private final long extentBytes;
    private final int extentShift;
    private final LongSupplier nanoTime;
    private final long flushEveryNanos;
    private final java.util.TreeMap<Long, Long> hot = new java.util.TreeMap<>(); // extent → last epoch written
    private final java.util.HashMap<Long, Long> coldSince = new java.util.HashMap<>(); // extent → when it cooled
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
            coldSince.remove(x);
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
        long now = nanoTime.getAsLong();
        for (var e : hot.entrySet()) {
            if (e.getValue() <= epoch) coldSince.putIfAbsent(e.getKey(), now);
        }
        stale = true; // syncedEpoch moved
    }

    /**
     * At most once per interval: drops extents cold for a whole interval and rewrites the file
     * with them gone and the newest acknowledged epoch.
     */
    public synchronized void maybeFlush() throws IOException {
        long now = nanoTime.getAsLong();
        if (stale && now - lastPersistNanos >= flushEveryNanos) {
            dropCold(now - flushEveryNanos);
            persist();
        }
    }

    /** Drops every cold extent and rewrites the file now if anything changed (clean exit). */
    public synchronized void flush() throws IOException {
        if (!stale && coldSince.isEmpty()) return;
        dropCold(Long.MAX_VALUE);
        persist();
    }

    private void dropCold(long cooledBefore) {
        coldSince.entrySet().removeIf(e -> {
            if (e.getValue() > cooledBefore) return false;
            hot.remove(e.getKey());
            return true;
        });
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
