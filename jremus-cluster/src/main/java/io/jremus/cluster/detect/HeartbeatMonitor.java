package io.jremus.cluster.detect;

import java.time.Duration;

/**
 * A timeout failure detector for one peer: fed with heartbeat arrivals
 * ({@link #onHeartbeat}) and polled with the injected clock ({@link #check}). The peer is
 * {@link State#SUSPECTED} once no newer heartbeat has arrived for {@code timeout}; with a sender
 * interval of {@code timeout / 3} that is "three missed heartbeats". Before the first heartbeat
 * the time counts from {@link #start}. Not thread-safe: one agent feeds and polls it (heartbeats
 * from another thread go through that agent's queue).
 */
public final class HeartbeatMonitor {
    /** The default suspicion timeout: 3 heartbeats at the default 100 ms interval. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(300);

    /** What the monitor thinks of the peer; codes are stable (status output, metrics). */
    public enum State {
        /** A heartbeat arrived within the timeout. */
        ALIVE(1),
        /** No heartbeat for at least the timeout: the peer or the path to it may be dead. */
        SUSPECTED(2);

        private final int code;

        State(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }
    }

    /** The verdict at one instant: the state, how long since the last heartbeat, its sequence (-1 for none). */
    public record Status(State state, long sinceLastNanos, long lastSeq) {
        public boolean suspected() {
            return state == State.SUSPECTED;
        }
    }

    private final long timeoutNanos;
    private long lastNanos;
    private long lastSeq = -1;
    private long heartbeats;

    public HeartbeatMonitor(Duration timeout, long startNanos) {
        if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        this.timeoutNanos = timeout.toNanos();
        this.lastNanos = startNanos;
    }

    public HeartbeatMonitor(long startNanos) {
        this(DEFAULT_TIMEOUT, startNanos);
    }

    /** Restarts the count from {@code nowNanos} as if a heartbeat had arrived (a new peer, a resumed stream). */
    public void start(long nowNanos) {
        lastNanos = nowNanos;
    }

    /**
     * Records a heartbeat. One whose sequence is not newer than the last one seen is ignored: a
     * delayed duplicate proves nothing about the peer now.
     *
     * @return whether it counted
     */
    public boolean onHeartbeat(long seq, long nowNanos) {
        if (seq <= lastSeq) return false;
        lastSeq = seq;
        lastNanos = nowNanos;
        heartbeats++;
        return true;
    }

    public Status check(long nowNanos) {
        long since = nowNanos - lastNanos;
        return new Status(since >= timeoutNanos ? State.SUSPECTED : State.ALIVE, since, lastSeq);
    }

    public Duration timeout() {
        return Duration.ofNanos(timeoutNanos);
    }

    /** Heartbeats counted so far. */
    public long heartbeats() {
        return heartbeats;
    }
}
