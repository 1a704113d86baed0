package io.jremus.replication.disk;

import io.jremus.replication.disk.DiskReplicationException.Kind;
import io.jremus.vmm.devices.virtio.blk.VirtioBlk;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Disk buffering on the backup (architecture invariant 3): the disk writes of the epoch being
 * received are held in memory, and reach the backup's disk only when that epoch commits, so the
 * disk only ever holds the state of a committed checkpoint. A partial epoch is discarded without
 * touching the disk.
 *
 * <h2>Calls, from the receiver thread, per checkpoint N</h2>
 * {@link #add} for each disk-write record of N (they may arrive any time before N's end);
 * then, once the whole checkpoint has arrived and checked, {@link #commit(long) commit(N)}, which
 * writes them in arrival order and syncs before returning, so an ACK(N) sent afterwards means the
 * disk part of N is durable; or {@link #discard(long) discard(N)} when N is cut off or invalid.
 *
 * <h2>Untrusted input</h2>
 * Every write is checked before it is held: epoch (only the one after the last committed is
 * open), sector range inside the disk, length a positive multiple of 512, and the epoch's total
 * under a memory limit. A refusal is a {@link Kind#BAD_INPUT} exception and leaves the disk as
 * it was. A failed write or sync during a commit is {@link Kind#DISK_FAILED}: the disk may then
 * be between two checkpoints, so the buffer refuses all further work.
 *
 * <p>Synchronized, though one receiver thread is the expected caller.
 */
public final class EpochDiskBuffer {
    private final DiskImage image;
    private final long diskBytes;
    private final long maxEpochBytes;

    // Guarded by this.
    private long committedEpoch;
    private final List<DiskWrite> held = new ArrayList<>();
    private long heldBytes;
    private String failure;
    private long syncs;

    /**
     * @param image          the backup's disk, holding the state of checkpoint {@code committedEpoch}
     * @param committedEpoch the checkpoint the image holds now (0 before the first)
     * @param maxEpochBytes  the most write data one epoch may bring (an epoch over it is refused)
     */
    public EpochDiskBuffer(DiskImage image, long committedEpoch, long maxEpochBytes) {
        if (committedEpoch < 0) throw new IllegalArgumentException("committed epoch must not be negative: " + committedEpoch);
        if (maxEpochBytes <= 0) throw new IllegalArgumentException("epoch memory limit must be positive: " + maxEpochBytes);
        this.image = image;
        this.diskBytes = image.sizeBytes();
        this.maxEpochBytes = maxEpochBytes;
        this.committedEpoch = committedEpoch;
    }

    /** Checks a write of epoch {@code epoch} and holds a copy of {@code data} until the epoch commits. */
    public synchronized void add(long epoch, long sector, MemorySegment data) throws DiskReplicationException {
        check(epoch, sector, data.byteSize());
        hold(DiskWrite.copyOf(sector, data));
    }

    /** As {@link #add(long, long, MemorySegment)}, for a write already decoded (held without a copy: DiskWrite is immutable). */
    public synchronized void add(long epoch, DiskWrite write) throws DiskReplicationException {
        check(epoch, write.sector(), write.length());
        hold(write);
    }

    private void hold(DiskWrite w) {
        held.add(w);
        heldBytes += w.length();
    }

    private void check(long epoch, long sector, long length) throws DiskReplicationException {
        checkUsable();
        long open = committedEpoch + 1;
        if (epoch != open) {
            throw bad("disk write for epoch " + epoch + " refused: epoch " + open + " is open (last committed "
                    + committedEpoch + ")");
        }
        if (length <= 0 || length % VirtioBlk.SECTOR_SIZE != 0) {
            throw bad("disk write at sector " + Long.toUnsignedString(sector) + " refused: length " + length
                    + " is not a positive multiple of 512");
        }
        long sectors = diskBytes >>> VirtioBlk.SECTOR_SHIFT;
        long count = length >>> VirtioBlk.SECTOR_SHIFT;
        // Unsigned: a "negative" sector is a huge one. Written so nothing can overflow.
        if (Long.compareUnsigned(sector, sectors) >= 0 || count > sectors - sector) {
            throw bad("disk write of " + length + " bytes at sector " + Long.toUnsignedString(sector)
                    + " refused: the disk has " + sectors + " sectors");
        }
        if (length > maxEpochBytes - heldBytes) {
            throw bad("disk write of " + length + " bytes refused: epoch " + epoch + " already holds " + heldBytes
                    + " bytes, limit " + maxEpochBytes);
        }
    }

    /**
     * Applies the held writes of {@code epoch} to the disk in arrival order and syncs it, then
     * records the epoch as committed. An epoch without writes commits without touching the disk.
     *
     * @return the number of writes applied
     */
    public synchronized int commit(long epoch) throws DiskReplicationException {
        checkUsable();
        if (epoch != committedEpoch + 1) {
            throw bad("commit of epoch " + epoch + " refused: the open epoch is " + (committedEpoch + 1));
        }
        int n = held.size();
        if (n > 0) {
            DiskWrite current = null;
            try {
                for (DiskWrite w : held) {
                    current = w;
                    image.write(w.offset(), w.data());
                }
                current = null;
                image.sync();
                syncs++;
            } catch (IOException e) {
                failure = "commit of epoch " + epoch + " failed " + (current == null ? "in fdatasync"
                        : "writing " + current.length() + " bytes at sector " + current.sector()) + ": " + e.getMessage();
                throw new DiskReplicationException(Kind.DISK_FAILED, failure + "; the backup disk may hold a mix of epochs "
                        + committedEpoch + " and " + epoch + " and needs a resync", e);
            }
        }
        held.clear();
        heldBytes = 0;
        committedEpoch = epoch;
        return n;
    }

    /**
     * A new session starts: the image holds the state of checkpoint {@code committed} (the
     * session's start epoch − 1). Any partial epoch is dropped; a buffer whose disk failed stays failed.
     */
    public synchronized void restartAt(long committed) {
        if (committed < 0) throw new IllegalArgumentException("committed epoch must not be negative: " + committed);
        held.clear();
        heldBytes = 0;
        committedEpoch = committed;
    }

    /**
     * Drops the held writes of the partial epoch {@code epoch}; the disk is not touched.
     *
     * @return the number of writes dropped
     */
    public synchronized int discard(long epoch) throws DiskReplicationException {
        if (epoch != committedEpoch + 1) {
            throw bad("discard of epoch " + epoch + " refused: the open epoch is " + (committedEpoch + 1));
        }
        int n = held.size();
        held.clear();
        heldBytes = 0;
        return n;
    }

    public synchronized long committedEpoch() {
        return committedEpoch;
    }

    public synchronized long heldBytes() {
        return heldBytes;
    }

    public synchronized int heldWrites() {
        return held.size();
    }

    /** Syncs done by commits so far. */
    public synchronized long syncs() {
        return syncs;
    }

    /** Whether a failed commit has left the disk untrustworthy. */
    public synchronized boolean failed() {
        return failure != null;
    }

    private void checkUsable() throws DiskReplicationException {
        if (failure != null) throw new DiskReplicationException(Kind.DISK_FAILED, "backup disk unusable: " + failure);
    }

    private static DiskReplicationException bad(String message) {
        return new DiskReplicationException(Kind.BAD_INPUT, message);
    }
}
