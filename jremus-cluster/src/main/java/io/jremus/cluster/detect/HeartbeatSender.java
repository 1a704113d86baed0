package io.jremus.cluster.detect;

import java.time.Duration;

/**
 * A duty-cycle agent that emits a heartbeat every {@code interval}: {@link #doWork} is called
 * with the injected clock's time and returns how many heartbeats it emitted (0 or 1), so an
 * idle strategy can back off. If calls come late it emits one heartbeat and re-aligns to the
 * current time rather than bursting to catch up. The first heartbeat goes out on the first call.
 */
public final class HeartbeatSender {
    /** The default interval: three fit in the default suspicion timeout. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofMillis(100);

    /** Where heartbeats go (the replication back channel, a second path); must not block for long. */
    @FunctionalInterface
    public interface Emitter {
        void emit(long seq, long nowNanos);
    }

    private final long intervalNanos;
    private final Emitter emitter;
    private long seq;
    private long nextDue;
    private boolean started;

    public HeartbeatSender(Duration interval, Emitter emitter) {
        if (interval.isNegative() || interval.isZero()) throw new IllegalArgumentException("interval must be positive, got " + interval);
        this.intervalNanos = interval.toNanos();
        this.emitter = emitter;
    }

    public int doWork(long nowNanos) {
        if (started && nowNanos - nextDue < 0) return 0;
        started = true;
        emitter.emit(seq++, nowNanos);
        nextDue = nowNanos + intervalNanos;
        return 1;
    }

    /** When the next heartbeat is due (for an idle strategy that sleeps until then). */
    public long nextDueNanos() {
        return nextDue;
    }

    /** Heartbeats emitted so far. */
    public long sent() {
        return seq;
    }
}
