package io.jremus.replication.netbuf;

import org.HdrHistogram.Histogram;

/**
 * A snapshot of one {@link BufferedOutputGate}'s counters, taken under its lock so the numbers
 * agree with each other. Counters run from the gate's creation; "queued" values are the state at
 * the snapshot.
 *
 * @param framesBuffered      frames accepted into the buffer (protected mode)
 * @param bytesBuffered       their frame bytes
 * @param framesReleased      buffered frames handed to the sink after their epoch committed
 *                            (including those the sink then refused)
 * @param bytesReleased       their frame bytes
 * @param framesDropped       frames refused at submit because the byte budget was full
 * @param bytesDropped        their frame bytes
 * @param framesDiscarded     uncommitted frames thrown away by {@code discardUncommitted}
 * @param sinkRefused         released or passed-through frames the sink did not take (full or down link)
 * @param framesPassedThrough frames sent at once in pass-through mode
 * @param queuedFrames        frames held now
 * @param queuedBytes         ring bytes in use now (frames, their headers and wrap slack)
 * @param maxQueuedFrames     the most frames ever held at once
 * @param maxQueuedBytes      the most ring bytes ever in use at once
 * @param openEpoch           the epoch new frames are tagged with
 * @param committedEpoch      the highest epoch released
 * @param holdTimeNanos       a copy of the submit→release latency of every released buffered frame
 */
public record NetBufferMetrics(
        long framesBuffered, long bytesBuffered,
        long framesReleased, long bytesReleased,
        long framesDropped, long bytesDropped,
        long framesDiscarded, long sinkRefused, long framesPassedThrough,
        long queuedFrames, long queuedBytes, long maxQueuedFrames, long maxQueuedBytes,
        long openEpoch, long committedEpoch,
        Histogram holdTimeNanos) {
}
