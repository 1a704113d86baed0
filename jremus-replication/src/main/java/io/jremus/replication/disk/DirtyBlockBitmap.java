package io.jremus.replication.disk;

import java.util.function.LongConsumer;

/**
 * Which 4 KiB blocks of a disk were written since the bitmap was last cleared, one bit per block
 * (DRBD keeps the same granularity): after a failover, the survivor marks every block its guest
 * writes, and re-protection copies only those to the new backup instead of the whole disk.
 *
 * <p>Thread-safe (every method holds the bitmap's lock); marking is O(blocks touched).
 */
public final class DirtyBlockBitmap {
    public static final int BLOCK_SHIFT = 12;
    public static final long BLOCK_SIZE = 1L << BLOCK_SHIFT;

    private final long diskBytes;
    private final long blocks;
    private final long[] words;
    private long count;

    /** A clean bitmap for a disk of {@code diskBytes} bytes (the last block may be partial). */
    public DirtyBlockBitmap(long diskBytes) {
        if (diskBytes <= 0) throw new IllegalArgumentException("disk size must be positive, not " + diskBytes);
        long b = (diskBytes + BLOCK_SIZE - 1) >>> BLOCK_SHIFT;
        if ((b + 63) / 64 > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("disk of " + diskBytes + " bytes is too large for one bitmap");
        }
        this.diskBytes = diskBytes;
        this.blocks = b;
        this.words = new long[(int) ((b + 63) >>> 6)];
    }

    /**
     * Marks every block that {@code length} bytes at {@code offset} touch.
     *
     * @throws IllegalArgumentException if the range is not inside the disk
     */
    public synchronized void mark(long offset, long length) {
        if (length == 0) return;
        if (offset < 0 || length < 0 || offset > diskBytes - length) {
            throw new IllegalArgumentException("range of " + length + " bytes at " + offset + " is outside a disk of "
                    + diskBytes + " bytes");
        }
        long last = (offset + length - 1) >>> BLOCK_SHIFT;
        for (long block = offset >>> BLOCK_SHIFT; block <= last; block++) {
            int w = (int) (block >>> 6);
            long bit = 1L << block;
            if ((words[w] & bit) == 0) {
                words[w] |= bit;
                count++;
            }
        }
    }

    public synchronized boolean isDirty(long block) {
        checkBlock(block);
        return (words[(int) (block >>> 6)] & 1L << block) != 0;
    }

    /** Cleans one block (e.g. once a resync has copied it). */
    public synchronized void clear(long block) {
        checkBlock(block);
        int w = (int) (block >>> 6);
        long bit = 1L << block;
        if ((words[w] & bit) != 0) {
            words[w] &= ~bit;
            count--;
        }
    }

    /** Cleans every block: "written since" starts now. */
    public synchronized void clear() {
        java.util.Arrays.fill(words, 0);
        count = 0;
    }

    /** Dirty blocks. */
    public synchronized long count() {
        return count;
    }

    /** Blocks the disk has. */
    public long blocks() {
        return blocks;
    }

    /** The first dirty block at or after {@code from}, or -1. */
    public synchronized long nextDirty(long from) {
        if (from < 0) from = 0;
        if (from >= blocks) return -1;
        int w = (int) (from >>> 6);
        long word = words[w] & (-1L << from);
        while (true) {
            if (word != 0) {
                long block = ((long) w << 6) + Long.numberOfTrailingZeros(word);
                return block < blocks ? block : -1;
            }
            if (++w == words.length) return -1;
            word = words[w];
        }
    }

    /** Calls {@code action} with each dirty block, in ascending order, as of the call. */
    public void forEachDirty(LongConsumer action) {
        long[] snapshot;
        synchronized (this) {
            snapshot = words.clone();
        }
        for (int w = 0; w < snapshot.length; w++) {
            long word = snapshot[w];
            while (word != 0) {
                action.accept(((long) w << 6) + Long.numberOfTrailingZeros(word));
                word &= word - 1;
            }
        }
    }

    private void checkBlock(long block) {
        if (block < 0 || block >= blocks) {
            throw new IndexOutOfBoundsException("block " + block + " outside a disk of " + blocks + " blocks");
        }
    }
}
