package io.jremus.replication.disk;

import java.util.Arrays;
import java.util.UUID;

/**
 * What the primary sends to seed one disk of a new backup: either a partial resync (the chunks
 * that changed since the backup's synced epoch, plus the backup's activity-log extents) or a
 * full copy.
 *
 * <p>Partial is chosen only when it is provably enough: the backup's copy is of this lineage
 * (or of its parent up to the fork point), its synced epoch is known, not ahead of what this
 * primary's lineage has committed, and not before the primary's clock record starts
 * ({@link ChunkWriteClock#knownSince()}). Then, for each byte: if the backup's copy differs from
 * the committed content at its synced epoch S, the byte is in a backup activity-log extent; if
 * the primary's content differs from that content, its chunk is stamped after S. The union
 * covers every byte where the two copies may differ.
 *
 * @param chunks     for a partial resync, the chunk numbers to send, ascending; empty for a full copy
 * @param chunkBytes the chunk size of {@code chunks}
 * @param reason     one line for the operator: why full, or since when partial
 */
public record ResyncPlan(int disk, boolean full, long sinceEpoch, long[] chunks, int chunkBytes, long diskBytes, String reason) {
    public ResyncPlan {
        chunks = chunks.clone();
    }

    @Override
    public long[] chunks() {
        return chunks.clone();
    }

    /**
     * @param primaryEpoch the last epoch this primary's lineage may have committed (its first
     *                     checkpoint of this session minus one)
     * @param backup       what the backup reported for this disk
     */
    public static ResyncPlan compute(int disk, DiskSyncTracker primary, long primaryEpoch, DiskSyncMeta backup) {
        return compute(disk, primary.lineage(), primary.parentLineage(), primary.parentEpoch(), primary.clock(), primaryEpoch, backup);
    }

    public static ResyncPlan compute(int disk, UUID lineage, UUID parentLineage, long parentEpoch, ChunkWriteClock clock,
                                     long primaryEpoch, DiskSyncMeta backup) {
        long s = backup.syncedEpoch();
        String why;
        if (!backup.known()) {
            why = "the backup's copy is of no known epoch";
        } else if (backup.lineage().equals(lineage)) {
            why = s > primaryEpoch ? "the backup's copy is at epoch " + s + ", ahead of this primary's " + primaryEpoch : null;
        } else if (backup.lineage().equals(parentLineage)) {
            why = s > parentEpoch ? "the backup's copy is at epoch " + s + " of the parent lineage, after the fork at " + parentEpoch : null;
        } else {
            why = "the backup's copy is of lineage " + backup.lineage() + ", this disk's is " + lineage;
        }
        if (why == null && s < clock.knownSince()) {
            why = "the backup's copy is at epoch " + s + ", older than this primary's record of changes (from epoch " + clock.knownSince() + ")";
        }
        if (why != null) return new ResyncPlan(disk, true, -1, new long[0], clock.chunkBytes(), clock.diskBytes(), why);
        long[] changed = clock.changedSince(s);
        long[] al = backup.activityLog();
        long perExtent = Math.max(1, backup.extentBytes() / clock.chunkBytes());
        long[] fromAl = new long[(int) Math.min(Integer.MAX_VALUE - 8, al.length * perExtent)];
        int n = 0;
        for (long x : al) {
            long first = x * backup.extentBytes() / clock.chunkBytes();
            for (long c = first; c < first + perExtent && c < clock.chunks() && n < fromAl.length; c++) fromAl[n++] = c;
        }
        long[] union = union(changed, Arrays.copyOf(fromAl, n));
        return new ResyncPlan(disk, false, s, union, clock.chunkBytes(), clock.diskBytes(),
                "since epoch " + s + " (" + changed.length + " chunks changed, " + al.length + " activity-log extents on the backup)");
    }

    private static long[] union(long[] a, long[] b) {
        Arrays.sort(b);
        long[] out = new long[a.length + b.length];
        int i = 0, j = 0, n = 0;
        while (i < a.length || j < b.length) {
            long v = j >= b.length || i < a.length && a[i] <= b[j] ? a[i++] : b[j++];
            if (n == 0 || out[n - 1] != v) out[n++] = v;
        }
        return Arrays.copyOf(out, n);
    }

    /** Bytes a partial resync sends (the last chunk may be short); the disk size for a full copy (an upper bound). */
    public long bytes() {
        if (full) return diskBytes;
        long b = 0;
        for (long c : chunks) b += Math.min(chunkBytes, diskBytes - c * chunkBytes);
        return b;
    }

    /** "resync disk 0: 12 chunks (768 KiB) of 64 MiB, since epoch 1234" or "disk 0: full copy (...)". */
    public String describe() {
        if (full) return "disk " + disk + ": full copy of " + (diskBytes >> 20) + " MiB (" + reason + ")";
        return "resync disk " + disk + ": " + chunks.length + " chunks (" + (bytes() >> 10) + " KiB) of " + (diskBytes >> 20)
                + " MiB, " + reason;
    }
}
