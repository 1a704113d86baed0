package io.jremus.cluster.detect;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class HeartbeatTest {
    private static final long MS = 1_000_000L;

    @Test
    void shouldSuspectThePeerAfterThreeMissedHeartbeatsAtTheDefaults() {
        assertThat(HeartbeatMonitor.DEFAULT_TIMEOUT).isLessThanOrEqualTo(Duration.ofMillis(300));
        assertThat(HeartbeatSender.DEFAULT_INTERVAL.multipliedBy(3)).isEqualTo(HeartbeatMonitor.DEFAULT_TIMEOUT);
        HeartbeatMonitor m = new HeartbeatMonitor(0);
        m.onHeartbeat(0, 1000 * MS);
        assertThat(m.check(1299 * MS).state()).isEqualTo(HeartbeatMonitor.State.ALIVE);
        HeartbeatMonitor.Status s = m.check(1300 * MS);
        assertThat(s.state()).isEqualTo(HeartbeatMonitor.State.SUSPECTED);
        assertThat(s.sinceLastNanos()).isEqualTo(300 * MS);
        assertThat(s.lastSeq()).isZero();
    }

    @Test
    void shouldCountFromTheStartBeforeAnyHeartbeat() {
        HeartbeatMonitor m = new HeartbeatMonitor(Duration.ofMillis(100), 50 * MS);
        assertThat(m.check(149 * MS).suspected()).isFalse();
        assertThat(m.check(150 * MS).suspected()).isTrue();
        assertThat(m.check(150 * MS).lastSeq()).isEqualTo(-1);
    }

    @Test
    void shouldIgnoreDelayedDuplicateHeartbeats() {
        HeartbeatMonitor m = new HeartbeatMonitor(Duration.ofMillis(100), 0);
        assertThat(m.onHeartbeat(5, 10 * MS)).isTrue();
        assertThat(m.onHeartbeat(4, 90 * MS)).isFalse();
        assertThat(m.onHeartbeat(5, 95 * MS)).isFalse();
        assertThat(m.check(110 * MS).suspected()).isTrue();
        assertThat(m.heartbeats()).isEqualTo(1);
        assertThat(m.onHeartbeat(6, 111 * MS)).isTrue();
        assertThat(m.check(112 * MS).suspected()).isFalse();
    }

    @Test
    void shouldEmitOneHeartbeatPerIntervalAndReportWorkDone() {
        List<long[]> sent = new ArrayList<>();
        HeartbeatSender s = new HeartbeatSender(Duration.ofMillis(100), (seq, now) -> sent.add(new long[]{seq, now}));
        assertThat(s.doWork(0)).isEqualTo(1);
        assertThat(s.doWork(50 * MS)).isZero();
        assertThat(s.doWork(99 * MS)).isZero();
        assertThat(s.doWork(100 * MS)).isEqualTo(1);
        assertThat(s.nextDueNanos()).isEqualTo(200 * MS);
        // called very late: one heartbeat, no burst
        assertThat(s.doWork(1000 * MS)).isEqualTo(1);
        assertThat(s.doWork(1001 * MS)).isZero();
        assertThat(sent).extracting(a -> a[0]).containsExactly(0L, 1L, 2L);
        assertThat(s.sent()).isEqualTo(3);
    }

    @Test
    void shouldKeepAMonitorAliveWhenFedBySenderAtTheDefaults() {
        HeartbeatMonitor m = new HeartbeatMonitor(0);
        HeartbeatSender s = new HeartbeatSender(HeartbeatSender.DEFAULT_INTERVAL, m::onHeartbeat);
        for (long t = 0; t <= 5000 * MS; t += MS) {
            s.doWork(t);
            assertThat(m.check(t).suspected()).as("at %d ms", t / MS).isFalse();
        }
        // the sender stops (primary died) at 5000 ms; last heartbeat was at 5000 ms
        assertThat(m.check(5299 * MS).suspected()).isFalse();
        assertThat(m.check(5300 * MS).suspected()).isTrue();
    }
}
