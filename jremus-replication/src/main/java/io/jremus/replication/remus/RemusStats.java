package io.jremus.replication.remus;

import org.HdrHistogram.Histogram;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the primary measured: epochs, guest-visible pause per checkpoint, bytes sent and the
 * raw size they stand for (for the compression ratio). Updated by the checkpoint thread only;
 * {@link #snapshot} may be called from elsewhere (it copies under the lock).
 */
public final class RemusStats {
    private final Histogram pauseNanos = new Histogram(3);
    private final Histogram epochBytes = new Histogram(3);
    private long epochs;
    private long pagesSent;
    private long rawBytes;
    private long sentBytes;
    private long diskWrites;
    private long startNanos = System.nanoTime();
    private long resyncBytes;
    private long resyncChunks;
    private int fullCopies;

    synchronized void started() {
        startNanos = System.nanoTime();
    }

    synchronized void epoch(long pause, long pages, long raw, long sent, long writes) {
        epochs++;
        pauseNanos.recordValue(Math.max(1, pause));
        epochBytes.recordValue(Math.max(1, sent));
        pagesSent += pages;
        rawBytes += raw;
        sentBytes += sent;
        diskWrites += writes;
    }

    /** One disk of the seed: a partial resync of {@code chunks} chunks / {@code bytes} bytes, or a full copy. */
    synchronized void resync(boolean full, long chunks, long bytes) {
        if (full) fullCopies++;
        resyncChunks += chunks;
        resyncBytes += bytes;
    }

    /** Disk data bytes the seed sent (partial resyncs: the chunks; full copies: the non-zero regions). */
    public synchronized long resyncBytes() {
        return resyncBytes;
    }

    /** Chunks sent by partial resyncs. */
    public synchronized long resyncChunks() {
        return resyncChunks;
    }

    /** Disks the seed copied in full. */
    public synchronized int fullCopies() {
        return fullCopies;
    }

    public synchronized long epochs() {
        return epochs;
    }

    /** A flat map for status output and JSON. */
    public synchronized Map<String, Object> snapshot() {
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epochs", epochs);
        m.put("achievedHz", seconds > 0 ? Math.round(epochs / seconds * 10) / 10.0 : 0);
        m.put("pauseP50us", epochs == 0 ? 0 : pauseNanos.getValueAtPercentile(50) / 1000.0);
        m.put("pauseP99us", epochs == 0 ? 0 : pauseNanos.getValueAtPercentile(99) / 1000.0);
        m.put("pauseMaxUs", epochs == 0 ? 0 : pauseNanos.getMaxValue() / 1000.0);
        m.put("bytesPerEpochMean", epochs == 0 ? 0 : sentBytes / epochs);
        m.put("bytesPerEpochP99", epochs == 0 ? 0 : epochBytes.getValueAtPercentile(99));
        m.put("pagesSent", pagesSent);
        m.put("compressionRatio", sentBytes == 0 ? 0 : Math.round((double) rawBytes / sentBytes * 100) / 100.0);
        m.put("diskWrites", diskWrites);
        m.put("resyncBytes", resyncBytes);
        m.put("resyncChunks", resyncChunks);
        m.put("fullCopy", fullCopies > 0);
        return m;
    }
}
