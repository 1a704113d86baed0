package io.jremus.replication.disk;

import java.util.Arrays;

/**
 * Per chunk of a disk (64 KiB by default), the last epoch of the lineage in which it was
 * written: the bitmap a resync needs, generalised from "dirty since one moment" (DRBD's bitmap)
 * to "changed since any epoch at or after {@link #knownSince()}".
 *
 * <p>The promise: for every epoch {@code e ≥ knownSince}, the disk's current content differs
 * from the lineage's committed content at {@code e} only in chunks whose stamp is {@code > e}.
 * A primary stamps a guest write with the open epoch; a backup stamps an epoch's writes when it
 * commits them; a seed or resync write is stamped with the first epoch that commits after it
 * ({@link #stampPending}, which costs O(chunks written since the last commit)); a chunk whose content is not the lineage's at all (an activity-log
 * extent of a crashed primary) is {@link #UNKNOWN}, which is after every epoch.
 *
 * <p>Memory: 8 bytes per chunk (1 GiB disk: 128 KiB). Thread-safe.
 */
public final class ChunkWriteClock {
    /** Default chunk size. */
    public static final int DEFAULT_CHUNK_BYTES = 64 << 10;
    /** The stamp of a chunk whose content is not any committed epoch's: changed since everything. */
    public static final long UNKNOWN = Long.MAX_VALUE;
    /** The stamp of a seed/resync write not yet committed. */
    private static final long PENDING = Long.MAX_VALUE - 1;

    private final long diskBytes;
    private final int chunkShift;
    private final long[] stamps;
    private long knownSince;
    private int[] pending = new int[64];
    private int pendingCount;

    /**
     * @param knownSince the epoch from which this record is complete (the disk's synced epoch when
     *                   it was opened); -1 when nothing is known yet
     */
    public ChunkWriteClock(long diskBytes, int chunkBytes, long knownSince) {
        if (diskBytes <= 0) throw new IllegalArgumentException("disk size must be positive, not " + diskBytes);
        if (chunkBytes < 4096 || Integer.bitCount(chunkBytes) != 1) throw new IllegalArgumentException("chunk size " + chunkBytes + " is not a power of two ≥ 4096");
        long n = (diskBytes + chunkBytes - 1) / chunkBytes;
        if (n > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("disk of " + diskBytes + " bytes has too many chunks of " + chunkBytes);
        this.diskBytes = diskBytes;
        this.chunkShift = Integer.numberOfTrailingZeros(chunkBytes);
        this.stamps = new long[(int) n];
        this.knownSince = knownSince;
    }

    public int chunkBytes() {
        return 1 << chunkShift;
    }

    public int chunks() {
        return stamps.length;
    }

    public long diskBytes() {
        return diskBytes;
    }

    public synchronized long knownSince() {
        return knownSince;
    }

    /** Records a write of {@code length} bytes at {@code offset} in {@code epoch}. Out-of-range parts are ignored. */
    public synchronized void stamp(long offset, long length, long epoch) {
        forChunks(offset, length, c -> stamps[c] = Math.max(stamps[c], epoch));
    }

    /** Marks bytes as holding content of no committed epoch (changed since every epoch). */
    public synchronized void markUnknown(long offset, long length) {
        forChunks(offset, length, c -> stamps[c] = UNKNOWN);
    }

    /** Marks bytes written by a seed or resync; {@link #stampPending} stamps them at the commit that follows. */
    public synchronized void markPending(long offset, long length) {
        forChunks(offset, length, c -> {
            if (stamps[c] == PENDING) return;
            stamps[c] = PENDING;
            if (pendingCount == pending.length) pending = Arrays.copyOf(pending, pendingCount * 2);
            pending[pendingCount++] = c;
        });
    }

    /** Forgets every stamp: the disk was emptied for a full copy. */
    public synchronized void reset() {
        Arrays.fill(stamps, 0);
        pendingCount = 0;
    }

    /**
     * The first commit after a seed/resync, at {@code epoch}: pending and unknown chunks now hold
     * that epoch's content. After a full copy nothing older is known, so {@code knownSince}
     * becomes {@code epoch}; after a partial resync it stays (the resync sent every chunk that
     * differed from an epoch ≥ knownSince, so the record stays complete).
     */
    public synchronized void stampPending(long epoch, boolean fullCopy) {
        for (int i = 0; i < pendingCount; i++) {
            if (stamps[pending[i]] == PENDING) stamps[pending[i]] = epoch;
        }
        pendingCount = 0;
        if (fullCopy || knownSince < 0) knownSince = epoch;
    }

    /** Chunks (ascending) whose content may differ from the committed content at {@code epoch}. */
    public synchronized long[] changedSince(long epoch) {
        if (epoch < knownSince) throw new IllegalArgumentException("epoch " + epoch + " is before this clock's record starts (" + knownSince + ")");
        long[] out = new long[16];
        int n = 0;
        for (int c = 0; c < stamps.length; c++) {
            if (stamps[c] > epoch) {
                if (n == out.length) out = Arrays.copyOf(out, n * 2);
                out[n++] = c;
            }
        }
        return Arrays.copyOf(out, n);
    }

    /** The stamp of chunk {@code c} (0 = never written while recorded). */
    public synchronized long stampOf(int c) {
        return stamps[c];
    }

    private void forChunks(long offset, long length, java.util.function.IntConsumer f) {
        if (length <= 0 || offset < 0 || offset >= diskBytes) return;
        long end = Math.min(diskBytes, offset + length);
        for (long c = offset >>> chunkShift; c <= (end - 1) >>> chunkShift; c++) f.accept((int) c);
    }
}
