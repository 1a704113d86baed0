package io.jremus.cluster;

import java.time.Duration;

/** A clock tests move by hand. */
public final class ManualClock implements NanoClock {
    private long now;

    public ManualClock(long start) {
        this.now = start;
    }

    @Override
    public long nanoTime() {
        return now;
    }

    public void advance(Duration d) {
        now += d.toNanos();
    }

    public void advanceMillis(long ms) {
        now += ms * 1_000_000L;
    }
}
