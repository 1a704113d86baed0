package io.jremus.cluster;

/**
 * A monotonic clock in nanoseconds, passed to everything in this module that has a timeout, so
 * tests advance time by hand (a takeover after three missed heartbeats is tested in microseconds,
 * nothing sleeps).
 */
@FunctionalInterface
public interface NanoClock {
    long nanoTime();

    /** {@link System#nanoTime()}. */
    static NanoClock system() {
        return System::nanoTime;
    }
}
