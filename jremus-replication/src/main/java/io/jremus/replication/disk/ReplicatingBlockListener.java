package io.jremus.replication.disk;

import io.jremus.vmm.devices.virtio.blk.BlockData;
import io.jremus.vmm.devices.virtio.blk.BlockWriteListener;
import io.jremus.vmm.devices.virtio.blk.VirtioBlk;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Disk replication on the primary (architecture invariant 3): installed on the VM's virtio-blk
 * device with {@code VirtioBlkDevice.setWriteListener}, it copies every guest write the device
 * completes (already on the primary's own disk) into the open epoch's write log, and at the
 * checkpoint hands the closed epoch's log to a {@link DiskWriteSink} for the stream. The backup
 * holds those writes and applies them only when the checkpoint commits ({@link EpochDiskBuffer}).
 *
 * <h2>Hooks, called by the checkpoint engine</h2>
 * {@link #postSuspend()}, with the vCPUs paused and the device quiesced (so every write the guest
 * has been told is done is in the closed epoch), closes epoch N, hands its writes to the sink on
 * the calling thread and returns N. preResume and commit have nothing to do on this side.
 *
 * <h2>Memory: the budget is a trigger, not a cap</h2>
 * A write is never dropped (the backup's disk would silently differ) and the device is never
 * made to wait (it runs on a vCPU thread, and the engine's pause must be able to stop that vCPU).
 * Instead, when the open epoch's data passes the budget, the pressure callback runs once, on the
 * device's thread, so the engine can checkpoint early; {@link #bytesPending()} shows the level
 * for an engine that polls. Memory is therefore bounded by the budget plus what the guest writes
 * before the early checkpoint pauses it.
 *
 * <p>What changed for a later resync is recorded in front of this listener, by the disk's
 * {@link DiskSyncTracker}, which passes every write on to it.
 */
public final class ReplicatingBlockListener implements BlockWriteListener {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicatingBlockListener.class);
    /** A single request larger than this (rare: 254 descriptors of several MiB) is split into records of this size. */
    static final int MAX_RECORD_BYTES = 1 << 30;

    private final DiskWriteSink sink;
    private final long diskBytes;
    private final long budgetBytes;
    private final Runnable pressure;

    // Guarded by this.
    private List<DiskWrite> open = new ArrayList<>();
    private long openEpoch;
    private long bytesPending;
    private boolean pressureSignalled;
    private long writes, bytes, flushes, maxEpochBytes, overBudgetEpochs;

    /**
     * @param diskBytes   the device's disk size
     * @param budgetBytes data bytes one epoch may gather before {@code pressure} runs
     * @param sink        takes each closed epoch's writes
     * @param pressure    asks the engine for an early checkpoint; runs on the device's thread,
     *                    so it must only signal, not checkpoint ({@code () -> {}} for an engine
     *                    that polls {@link #bytesPending()} instead)
     * @param firstEpoch  the number of the epoch that starts now (the engine's numbering)
     */
    public ReplicatingBlockListener(long diskBytes, long budgetBytes, DiskWriteSink sink, Runnable pressure,
                                    long firstEpoch) {
        if (budgetBytes <= 0) throw new IllegalArgumentException("disk epoch budget must be positive, not " + budgetBytes);
        if (firstEpoch < 1) throw new IllegalArgumentException("first epoch must be at least 1, not " + firstEpoch);
        this.diskBytes = diskBytes;
        this.budgetBytes = budgetBytes;
        this.sink = sink;
        this.pressure = pressure;
        this.openEpoch = firstEpoch;
    }

    /** Copies the write into the open epoch. On the device's request thread; never throws. */
    @Override
    public void written(long sector, long length, BlockData data) {
        boolean signal;
        synchronized (this) {
            if (length <= MAX_RECORD_BYTES) {
                byte[] copy = new byte[(int) length];
                data.copyTo(MemorySegment.ofArray(copy), 0);
                open.add(DiskWrite.wrap(sector, copy));
            } else {
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment all = a.allocate(length);
                    data.copyTo(all, 0);
                    for (long off = 0; off < length; off += MAX_RECORD_BYTES) {
                        long n = Math.min(MAX_RECORD_BYTES, length - off);
                        byte[] part = all.asSlice(off, n).toArray(ValueLayout.JAVA_BYTE);
                        open.add(DiskWrite.wrap(sector + (off >>> VirtioBlk.SECTOR_SHIFT), part));
                    }
                }
            }
            bytesPending += length;
            writes++;
            bytes += length;
            signal = bytesPending > budgetBytes && !pressureSignalled;
            if (signal) pressureSignalled = true;
        }
        if (signal) {
            try {
                pressure.run();
            } catch (RuntimeException e) {
                LOG.warn("disk replication: early-checkpoint request failed: {}", e.toString());
            }
        }
    }

    @Override
    public synchronized void flushed() {
        // Nothing to send: the backup syncs each epoch as it commits it, which covers every flush in it.
        flushes++;
    }

    /**
     * Closes the open epoch, hands its writes to the sink (on this thread) and opens the next.
     * Call with the VM paused and the device quiesced.
     *
     * @return the epoch closed
     */
    public long postSuspend() {
        List<DiskWrite> closed;
        long epoch;
        synchronized (this) {
            closed = open;
            epoch = openEpoch++;
            maxEpochBytes = Math.max(maxEpochBytes, bytesPending);
            if (bytesPending > budgetBytes) overBudgetEpochs++;
            open = new ArrayList<>();
            bytesPending = 0;
            pressureSignalled = false;
        }
        sink.epochClosed(epoch, closed);
        return epoch;
    }

    /** Data bytes written in the open epoch: the engine may checkpoint early when this passes {@link #budgetBytes()}. */
    public synchronized long bytesPending() {
        return bytesPending;
    }

    public synchronized int writesPending() {
        return open.size();
    }

    public long budgetBytes() {
        return budgetBytes;
    }

    public synchronized long openEpoch() {
        return openEpoch;
    }

    public synchronized DiskReplicationMetrics metrics() {
        return new DiskReplicationMetrics(writes, bytes, flushes, bytesPending, maxEpochBytes, overBudgetEpochs);
    }

    /**
     * @param writes           guest writes captured since creation
     * @param bytes            their data bytes
     * @param flushes          guest flushes heard
     * @param bytesPending     data bytes in the open epoch
     * @param maxEpochBytes    the largest closed epoch, in data bytes
     * @param overBudgetEpochs closed epochs that passed the budget (early checkpoint came late)
     */
    public record DiskReplicationMetrics(long writes, long bytes, long flushes, long bytesPending, long maxEpochBytes,
                                         long overBudgetEpochs) {
    }
}
