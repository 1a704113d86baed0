package io.jremus.replication.netbuf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BufferedOutputGateTest {
    /** A link that remembers each frame's bytes, in order, and can be told to refuse. */
    static final class RecordingSink implements FrameSink {
        final List<byte[]> frames = new ArrayList<>();
        boolean refuse;

        @Override
        public synchronized boolean send(MemorySegment frame) {
            assertThat(frame.isNative()).as("the TAP needs native memory").isTrue();
            if (refuse) return false;
            frames.add(frame.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            return true;
        }

        synchronized List<Integer> ids() {
            return frames.stream().map(BufferedOutputGateTest::id).toList();
        }
    }

    /** A clock the test moves by hand. */
    static final class FakeClock {
        long now = 1_000_000;

        long nanos() {
            return now;
        }
    }

    final RecordingSink sink = new RecordingSink();
    final FakeClock clock = new FakeClock();
    BufferedOutputGate gate = new BufferedOutputGate(sink, 64 * 1024, clock::nanos, 1);

    @AfterEach
    void close() {
        gate.close();
    }

    /**
     * A frame whose first four bytes carry an id and the rest a pattern from it, in native
     * memory as the NIC hands it over.
     */
    static MemorySegment frame(int id, int length) {
        MemorySegment s = java.lang.foreign.Arena.ofAuto().allocate(length);
        for (int i = 0; i < length; i++) s.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) (id * 31 + i));
        s.set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, 0, id);
        return s;
    }

    static int id(byte[] frame) {
        return MemorySegment.ofArray(frame).get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, 0);
    }

    @Test
    void shouldReleaseBufferedFramesOnlyAfterAck() {
        assertThat(gate.submit(frame(1, 60))).isTrue();
        assertThat(gate.submit(frame(2, 1514))).isTrue();
        assertThat(gate.postSuspend()).isEqualTo(1);
        assertThat(gate.submit(frame(3, 100))).isTrue();
        assertThat(gate.postSuspend()).isEqualTo(2);
        assertThat(gate.submit(frame(4, 100))).isTrue();
        assertThat(sink.frames).as("nothing leaves before an ack").isEmpty();

        assertThat(gate.commit(1)).isEqualTo(2);
        assertThat(sink.ids()).containsExactly(1, 2);
        assertThat(sink.frames.get(1)).isEqualTo(frame(2, 1514).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));

        assertThat(gate.commit(2)).isEqualTo(1);
        assertThat(sink.ids()).containsExactly(1, 2, 3);
        assertThat(gate.metrics().queuedFrames()).as("frame 4 is in the open epoch 3").isEqualTo(1);
    }

    @Test
    void shouldRefuseToCommitAnEpochThatIsStillOpen() {
        gate.submit(frame(1, 60));
        assertThatThrownBy(() -> gate.commit(1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("epoch 1").hasMessageContaining("still open");
        assertThat(sink.frames).isEmpty();
    }

    @Test
    void shouldReleaseEveryEpochUpToTheAckedOneWhenAcksAreCoalesced() {
        gate.submit(frame(1, 60));
        gate.postSuspend();
        gate.submit(frame(2, 60));
        gate.postSuspend();
        gate.submit(frame(3, 60));
        gate.postSuspend();
        assertThat(gate.commit(2)).isEqualTo(2);
        assertThat(gate.commit(2)).as("a repeated ack releases nothing").isZero();
        assertThat(gate.commit(1)).as("an older ack releases nothing").isZero();
        assertThat(sink.ids()).containsExactly(1, 2);
        assertThat(gate.metrics().committedEpoch()).isEqualTo(2);
    }

    @Test
    void shouldDropUncommittedFramesOnDiscard() {
        gate.submit(frame(1, 60));
        gate.postSuspend();
        gate.submit(frame(2, 60));
        gate.postSuspend();
        gate.submit(frame(3, 60));
        gate.commit(1);

        assertThat(gate.discardUncommitted()).isEqualTo(2);
        gate.postSuspend();
        gate.commit(3);
        assertThat(sink.ids()).containsExactly(1);
        NetBufferMetrics m = gate.metrics();
        assertThat(m.framesDiscarded()).isEqualTo(2);
        assertThat(m.queuedFrames()).isZero();
        assertThat(m.queuedBytes()).isZero();
    }

    @Test
    void shouldDropAndCountFramesWhenTheBudgetIsFull() {
        gate.close();
        gate = new BufferedOutputGate(sink, BufferedOutputGate.MIN_BUDGET, clock::nanos, 1);
        int accepted = 0;
        for (int i = 0; i < 10; i++) if (gate.submit(frame(i, 1514))) accepted++;
        // 8192 bytes hold five frames of 24 + 1520 bytes.
        assertThat(accepted).isEqualTo(5);
        NetBufferMetrics m = gate.metrics();
        assertThat(m.framesDropped()).isEqualTo(5);
        assertThat(m.bytesDropped()).isEqualTo(5 * 1514);
        assertThat(m.maxQueuedFrames()).isEqualTo(5);

        gate.postSuspend();
        gate.commit(1);
        assertThat(sink.ids()).containsExactly(0, 1, 2, 3, 4);
        assertThat(gate.submit(frame(99, 1514))).as("released space is reusable").isTrue();
    }

    @Test
    void shouldKeepFramesIntactAndInOrderAcrossTheRingsWrap() {
        gate.close();
        gate = new BufferedOutputGate(sink, BufferedOutputGate.MIN_BUDGET, clock::nanos, 1);
        int next = 0;
        List<Integer> expected = new ArrayList<>();
        for (int round = 0; round < 50; round++) {
            // Sizes that do not divide the ring, so frames meet its end at every kind of offset.
            for (int k = 0; k < 3; k++) {
                int len = 60 + (next * 397) % 1455;
                assertThat(gate.submit(frame(next, len))).isTrue();
                expected.add(next++);
            }
            gate.commit(gate.postSuspend());
        }
        assertThat(sink.ids()).isEqualTo(expected);
        for (int i = 0; i < sink.frames.size(); i++) {
            assertThat(sink.frames.get(i)).isEqualTo(frame(i, 60 + (i * 397) % 1455).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void shouldSendFramesAtOnceInPassThroughModeAfterReleasingWhatWasHeld() {
        gate.submit(frame(1, 60));
        gate.postSuspend();
        gate.submit(frame(2, 60));
        gate.passThrough(true);
        assertThat(sink.ids()).as("held frames go first, in order").containsExactly(1, 2);

        assertThat(gate.submit(frame(3, 60))).isTrue();
        assertThat(sink.ids()).containsExactly(1, 2, 3);
        assertThat(gate.metrics().framesPassedThrough()).isEqualTo(1);

        gate.passThrough(false);
        gate.submit(frame(4, 60));
        assertThat(sink.ids()).as("protected again: held until acked").containsExactly(1, 2, 3);
        gate.commit(gate.postSuspend());
        assertThat(sink.ids()).containsExactly(1, 2, 3, 4);
    }

    @Test
    void shouldReportAFrameTheSinkRefusedInPassThroughAsDropped() {
        gate.passThrough(true);
        sink.refuse = true;
        assertThat(gate.submit(frame(1, 60))).isFalse();
        assertThat(gate.metrics().sinkRefused()).isEqualTo(1);
    }

    @Test
    void shouldCountReleasedFramesTheSinkRefusedAndGoOnReleasing() {
        gate.submit(frame(1, 60));
        gate.submit(frame(2, 60));
        gate.postSuspend();
        sink.refuse = true;
        assertThat(gate.commit(1)).isEqualTo(2);
        NetBufferMetrics m = gate.metrics();
        assertThat(m.sinkRefused()).isEqualTo(2);
        assertThat(m.framesReleased()).isEqualTo(2);
        assertThat(m.queuedFrames()).isZero();
    }

    @Test
    void shouldRecordEachFramesHoldTimeFromSubmitToRelease() {
        gate.submit(frame(1, 60));          // at t0
        clock.now += 10_000_000;
        gate.submit(frame(2, 60));          // at t0 + 10 ms
        gate.postSuspend();
        clock.now += 30_000_000;            // ack at t0 + 40 ms
        gate.commit(1);
        var h = gate.metrics().holdTimeNanos();
        assertThat(h.getTotalCount()).isEqualTo(2);
        assertThat(h.getMinValue()).isBetween(29_900_000L, 30_100_000L);
        assertThat(h.getMaxValue()).isBetween(39_900_000L, 40_100_000L);
    }

    @Test
    void shouldCountBufferedAndReleasedBytesAndTheDeepestQueue() {
        gate.submit(frame(1, 100));
        gate.submit(frame(2, 200));
        gate.submit(frame(3, 300));
        assertThat(gate.openEpochFrames()).as("early mode: output is waiting").isEqualTo(3);
        gate.postSuspend();
        assertThat(gate.openEpochFrames()).isZero();
        gate.commit(1);
        NetBufferMetrics m = gate.metrics();
        assertThat(m.framesBuffered()).isEqualTo(3);
        assertThat(m.bytesBuffered()).isEqualTo(600);
        assertThat(m.bytesReleased()).isEqualTo(600);
        assertThat(m.maxQueuedFrames()).isEqualTo(3);
        assertThat(m.maxQueuedBytes()).isEqualTo(3 * 24 + 104 + 200 + 304);
    }

    @Test
    void shouldNeverReleaseAFrameBeforeItsEpochIsAckedWhileVcpusSubmitConcurrently() throws Exception {
        // vCPU threads tag frames with the epoch they believe is open; the sink checks that each
        // frame it receives belongs to an epoch already committed when it arrives.
        gate.close();
        long[] committed = {0};
        List<String> violations = new ArrayList<>();
        FrameSink checking = frame -> {
            long epochSeen = frame.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 0);
            synchronized (committed) {
                if (epochSeen > committed[0]) violations.add("frame of epoch " + epochSeen + " out at ack " + committed[0]);
            }
            return true;
        };
        gate = new BufferedOutputGate(checking, 1 << 20, System::nanoTime, 1);
        AtomicBoolean stop = new AtomicBoolean();
        long[] openEpoch = {1};
        java.util.concurrent.locks.ReadWriteLock paused = new java.util.concurrent.locks.ReentrantReadWriteLock();
        CountDownLatch started = new CountDownLatch(2);
        List<Thread> vcpus = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            Thread th = Thread.ofPlatform().start(() -> {
                MemorySegment f = java.lang.foreign.Arena.ofAuto().allocate(64);
                started.countDown();
                while (!stop.get()) {
                    paused.readLock().lock(); // a vCPU runs only while the VM is not paused
                    try {
                        f.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 0, openEpoch[0]);
                        gate.submit(f);
                    } finally {
                        paused.readLock().unlock();
                    }
                }
            });
            vcpus.add(th);
        }
        started.await();
        for (int n = 0; n < 300; n++) {
            long closed;
            paused.writeLock().lock(); // pause
            try {
                closed = gate.postSuspend();
                openEpoch[0] = closed + 1;
            } finally {
                paused.writeLock().unlock(); // resume
            }
            synchronized (committed) {
                committed[0] = closed;
            }
            gate.commit(closed);
        }
        stop.set(true);
        for (Thread th : vcpus) th.join();
        assertThat(violations).isEmpty();
        assertThat(gate.metrics().framesReleased()).isPositive();
    }

    @Test
    void shouldRefuseABudgetTooSmallForFullSizeFrames() {
        assertThatThrownBy(() -> new BufferedOutputGate(sink, 4096, clock::nanos, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4096");
    }

    @Test
    void shouldDropFramesSubmittedAfterClose() {
        gate.submit(frame(1, 60));
        gate.close();
        assertThat(gate.submit(frame(2, 60))).isFalse();
        assertThat(gate.metrics().framesDiscarded()).isEqualTo(1);
    }
}
