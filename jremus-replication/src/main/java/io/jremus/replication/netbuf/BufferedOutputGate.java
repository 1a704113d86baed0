package io.jremus.replication.netbuf;

import io.jremus.vmm.devices.virtio.net.OutputGate;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import org.HdrHistogram.Histogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Remus network output buffer (architecture invariant 1, output commit): every frame the
 * guest transmits during epoch N is held here until the backup has acknowledged checkpoint N,
 * then released to the real link in the order the guest sent it. Installed on the VM's NIC with
 * {@code VirtioNetDevice.setOutputGate} in place of the direct {@code TapOutputGate}.
 *
 * <h2>Per-checkpoint hooks (libxl's names), called by the checkpoint engine</h2>
 * <ol>
 *   <li>{@link #postSuspend()} — with the vCPUs paused and device threads quiesced: closes the
 *       open epoch N (every frame submitted so far is in it, and the checkpoint being taken
 *       includes the guest having sent them) and opens N+1; returns N.</li>
 *   <li>(preResume: nothing to do for the net buffer.)</li>
 *   <li>{@link #commit(long) commit(N)} — once ACK(N) has arrived: sends every held frame of the
 *       epochs ≤ N to the {@link FrameSink}, oldest first, on the calling thread.</li>
 * </ol>
 * On failover or when the primary stops: {@link #discardUncommitted()}. When the VM is to run
 * unprotected (its backup is gone and the primary won arbitration): {@link #passThrough(boolean)}.
 *
 * <h2>Why invariant 1 holds</h2>
 * A frame is tagged, under the lock, with the epoch open at its submission; {@code postSuspend}
 * advances that epoch under the same lock; {@code commit(N)} refuses an N that is still open and
 * stops at the first frame tagged above N. The only way out that skips this is pass-through,
 * which is an explicit decision to run unprotected.
 *
 * <h2>Memory</h2>
 * Frames are copied into one native ring of the configured byte budget (each frame costs its
 * length rounded up to 8 plus a {@value #HEADER}-byte header; a frame that does not fit before
 * the ring's end wastes the tail until that space is released). When the ring is full the frame
 * is dropped and counted, as a congested link would: {@link #submit} never blocks the vCPU and
 * allocates nothing.
 *
 * <h2>Threads</h2>
 * {@link #submit} runs on vCPU threads (the TX queue is served there); the hooks on the
 * checkpoint thread. Release happens on the caller of {@link #commit}: the ack arrives there
 * anyway, so a hand-off to a releaser thread would only add latency (the very latency output
 * commit costs) and a thread to start and tear down; the sink is a non-blocking TAP, so a
 * release costs one writev per frame and is bounded by the budget. The send itself runs outside
 * the lock: vCPUs keep submitting into free space while older frames go out, and the space of
 * a frame being sent is not reusable until it has gone (the ring head moves only after).
 *
 * <p>Inbound traffic is not touched: packets for the guest are delivered at once (invariant 1
 * says so), because a packet the guest receives and then loses in a failover is, to its peer,
 * a packet lost on the wire, and TCP retransmits it.
 */
public final class BufferedOutputGate implements OutputGate, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BufferedOutputGate.class);

    /** Per-frame ring header: int length (or {@link #WRAP}), int unused, long epoch, long submit time. */
    static final int HEADER = 24;
    private static final int WRAP = -1;
    /** The smallest budget accepted: room for a few full-size Ethernet frames. */
    public static final long MIN_BUDGET = 8192;
    private static final int MAX_LOGGED = 8;

    private final FrameSink sink;
    private final LongSupplier nanoClock;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment ring;
    private final long capacity;

    /** Guards the ring positions, the epochs, the mode and every counter. */
    private final ReentrantLock lock = new ReentrantLock();
    /** One release (commit, pass-through drain, discard, close) at a time; taken before {@link #lock}. */
    private final ReentrantLock releaseLock = new ReentrantLock();

    // Guarded by lock. head and tail only grow; offsets are taken modulo capacity.
    private long head;
    private long tail;
    private long queuedFrames;
    private long openEpoch;
    private long committedEpoch;
    private long openEpochFrames;
    private boolean passThrough;
    private boolean closed;
    private long framesBuffered, bytesBuffered, framesReleased, bytesReleased, framesDropped, bytesDropped,
            framesDiscarded, sinkRefused, framesPassedThrough, maxQueuedFrames, maxQueuedBytes;
    private final Histogram holdTime = new Histogram(3);
    private int logged;

    /**
     * @param sink        where committed frames go (normally {@link FrameSink#of} the VM's TAP)
     * @param budgetBytes ring size in bytes, at least {@link #MIN_BUDGET}; rounded up to 8
     * @param nanoClock   monotonic time for the hold-time histogram (System::nanoTime in production)
     * @param firstEpoch  the number of the epoch that starts now (the checkpoint engine's numbering);
     *                    epochs below it count as committed
     */
    public BufferedOutputGate(FrameSink sink, long budgetBytes, LongSupplier nanoClock, long firstEpoch) {
        if (budgetBytes < MIN_BUDGET) {
            throw new IllegalArgumentException("net buffer budget " + budgetBytes + " bytes is below the minimum " + MIN_BUDGET);
        }
        if (firstEpoch < 1) throw new IllegalArgumentException("first epoch must be at least 1, not " + firstEpoch);
        this.sink = sink;
        this.nanoClock = nanoClock;
        this.capacity = align8(budgetBytes);
        this.ring = arena.allocate(capacity, 8);
        this.openEpoch = firstEpoch;
        this.committedEpoch = firstEpoch - 1;
    }

    /**
     * Holds one frame for the open epoch (or, in pass-through mode, sends it at once).
     *
     * @return false if the frame was dropped: budget full, sink refused it in pass-through, or closed
     */
    @Override
    public boolean submit(MemorySegment frame) {
        long len = frame.byteSize();
        long rec = HEADER + align8(len);
        lock.lock();
        try {
            if (closed) {
                framesDropped++;
                bytesDropped += len;
                return false;
            }
            if (passThrough) {
                // Sent under the lock so that passThrough(false) cannot interleave with a send.
                framesPassedThrough++;
                return sendCounted(frame);
            }
            long off = tail % capacity;
            long waste = capacity - off < rec ? capacity - off : 0;
            if (tail - head + waste + rec > capacity) {
                framesDropped++;
                bytesDropped += len;
                return false;
            }
            if (waste > 0) {
                if (waste >= HEADER) ring.set(ValueLayout.JAVA_INT, off, WRAP);
                tail += waste;
                off = 0;
            }
            ring.set(ValueLayout.JAVA_INT, off, (int) len);
            ring.set(ValueLayout.JAVA_LONG, off + 8, openEpoch);
            ring.set(ValueLayout.JAVA_LONG, off + 16, nanoClock.getAsLong());
            MemorySegment.copy(frame, 0, ring, off + HEADER, len);
            tail += rec;
            queuedFrames++;
            openEpochFrames++;
            framesBuffered++;
            bytesBuffered += len;
            maxQueuedFrames = Math.max(maxQueuedFrames, queuedFrames);
            maxQueuedBytes = Math.max(maxQueuedBytes, tail - head);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Closes the open epoch and opens the next. Call with the VM paused and its device threads
     * quiesced, so that every frame of the closed epoch is in the checkpoint being taken.
     *
     * @return the epoch just closed, whose checkpoint is about to be sent
     */
    public long postSuspend() {
        lock.lock();
        try {
            openEpochFrames = 0;
            return openEpoch++;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The backup acknowledged checkpoint {@code epoch}: releases, in order and on this thread,
     * every held frame of the epochs up to it. A repeated or older ack releases nothing.
     *
     * @return the number of frames released
     * @throws IllegalArgumentException if {@code epoch} is still open (its checkpoint has not even been taken)
     */
    public long commit(long epoch) {
        releaseLock.lock();
        try {
            lock.lock();
            try {
                if (epoch >= openEpoch) {
                    throw new IllegalArgumentException("cannot commit epoch " + epoch + ": it is still open (open epoch "
                            + openEpoch + ", last closed " + (openEpoch - 1) + ")");
                }
                if (epoch <= committedEpoch) return 0;
                committedEpoch = epoch;
            } finally {
                lock.unlock();
            }
            return releaseThrough(epoch);
        } finally {
            releaseLock.unlock();
        }
    }

    /**
     * Drops every frame not yet released (those of epochs not acknowledged), for failover or a
     * primary that stops. The VM keeps its epoch numbering.
     *
     * @return the number of frames dropped
     */
    public long discardUncommitted() {
        releaseLock.lock();
        try {
            lock.lock();
            try {
                long n = queuedFrames;
                framesDiscarded += n;
                head = tail;
                queuedFrames = 0;
                openEpochFrames = 0;
                return n;
            } finally {
                lock.unlock();
            }
        } finally {
            releaseLock.unlock();
        }
    }

    /**
     * Switches between protected and unprotected output. {@code true} (the VM runs unprotected:
     * its backup is gone and this side won arbitration) first releases everything held, in
     * order, whatever its epoch (this VM's own state includes having sent it), then lets new
     * frames straight through; call {@link #discardUncommitted()} first to drop them instead.
     * {@code false} (a new backup has been seeded) buffers from the next frame on, in the open
     * epoch; switch with the VM paused so the boundary is a checkpoint boundary.
     */
    public void passThrough(boolean on) {
        releaseLock.lock();
        try {
            if (!on) {
                lock.lock();
                try {
                    passThrough = false;
                } finally {
                    lock.unlock();
                }
                return;
            }
            releaseThrough(Long.MAX_VALUE);
            lock.lock();
            try {
                // Frames submitted during the drain above are still queued: send them before
                // opening the gate, under the lock, so nothing overtakes them.
                while (queuedFrames > 0) {
                    long off = skipWaste();
                    int len = ring.get(ValueLayout.JAVA_INT, off);
                    released(off, len, sendCounted(ring.asSlice(off + HEADER, len)));
                }
                committedEpoch = openEpoch - 1;
                openEpochFrames = 0;
                passThrough = true;
            } finally {
                lock.unlock();
            }
        } finally {
            releaseLock.unlock();
        }
    }

    /** Sends held frames with epochs ≤ {@code epoch} until one is newer or none is left. Holds releaseLock. */
    private long releaseThrough(long epoch) {
        long n = 0;
        while (true) {
            long off;
            int len;
            lock.lock();
            try {
                if (closed || queuedFrames == 0) return n;
                off = skipWaste();
                if (ring.get(ValueLayout.JAVA_LONG, off + 8) > epoch) return n;
                len = ring.get(ValueLayout.JAVA_INT, off);
            } finally {
                lock.unlock();
            }
            // The frame's space stays ours until head moves past it below, so the send needs no lock.
            boolean sent = send(ring.asSlice(off + HEADER, len));
            lock.lock();
            try {
                if (!sent) sinkRefused++;
                released(off, len, sent);
            } finally {
                lock.unlock();
            }
            n++;
        }
    }

    /** Moves head over wrap slack to the next frame's header and returns its offset. Holds lock; queue not empty. */
    private long skipWaste() {
        long off = head % capacity;
        if (capacity - off < HEADER || ring.get(ValueLayout.JAVA_INT, off) == WRAP) {
            head += capacity - off;
            off = 0;
        }
        return off;
    }

    /** Books the frame at {@code off} as gone and frees its space. Holds lock. */
    private void released(long off, int len, boolean sent) {
        long submitted = ring.get(ValueLayout.JAVA_LONG, off + 16);
        holdTime.recordValue(Math.max(0, nanoClock.getAsLong() - submitted));
        head += HEADER + align8(len);
        queuedFrames--;
        framesReleased++;
        bytesReleased += len;
    }

    /** Sends and counts a refusal. Holds lock. */
    private boolean sendCounted(MemorySegment frame) {
        boolean ok = send(frame);
        if (!ok) sinkRefused++;
        return ok;
    }

    private boolean send(MemorySegment frame) {
        try {
            return sink.send(frame);
        } catch (RuntimeException e) {
            // A sink failure loses one frame, like a wire error; it must not stop the release of the rest.
            if (logged < MAX_LOGGED) {
                logged++;
                LOG.warn("net buffer: sink failed on a frame of {} bytes: {}", frame.byteSize(), e.toString());
            }
            return false;
        }
    }

    /** The epoch new frames are tagged with. */
    public long openEpoch() {
        lock.lock();
        try {
            return openEpoch;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Frames submitted in the open epoch: for the engine's early mode, which starts the next
     * checkpoint as soon as output is waiting.
     */
    public long openEpochFrames() {
        lock.lock();
        try {
            return openEpochFrames;
        } finally {
            lock.unlock();
        }
    }

    public boolean isPassThrough() {
        lock.lock();
        try {
            return passThrough;
        } finally {
            lock.unlock();
        }
    }

    /** The ring size, in bytes. */
    public long budgetBytes() {
        return capacity;
    }

    public NetBufferMetrics metrics() {
        lock.lock();
        try {
            return new NetBufferMetrics(framesBuffered, bytesBuffered, framesReleased, bytesReleased, framesDropped,
                    bytesDropped, framesDiscarded, sinkRefused, framesPassedThrough, queuedFrames, tail - head,
                    maxQueuedFrames, maxQueuedBytes, openEpoch, committedEpoch, holdTime.copy());
        } finally {
            lock.unlock();
        }
    }

    /** Drops whatever is held (nothing is released) and frees the ring; later submits are dropped. */
    @Override
    public void close() {
        releaseLock.lock();
        try {
            lock.lock();
            try {
                if (closed) return;
                closed = true;
                framesDiscarded += queuedFrames;
                queuedFrames = 0;
                head = tail;
                arena.close();
            } finally {
                lock.unlock();
            }
        } finally {
            releaseLock.unlock();
        }
    }

    private static long align8(long n) {
        return (n + 7) & ~7L;
    }
}
