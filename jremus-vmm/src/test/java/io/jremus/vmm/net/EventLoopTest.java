package io.jremus.vmm.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class EventLoopTest {
    @Test
    void shouldCallTheHandlerOnTheLoopThreadWhenItsFdBecomesReadable() throws Exception {
        try (EventLoop loop = new EventLoop("test-loop"); EventFd bell = new EventFd()) {
            CountDownLatch called = new CountDownLatch(1);
            AtomicInteger onLoop = new AtomicInteger();
            loop.register(bell.fd(), Epoll.EPOLLIN, ev -> {
                bell.drain();
                if (loop.inLoop()) onLoop.incrementAndGet();
                called.countDown();
            });
            bell.signal();
            assertThat(called.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(onLoop.get()).isEqualTo(1);
        }
    }

    @Test
    void shouldStopReportingAnFdWhoseInterestIsCleared() throws Exception {
        try (EventLoop loop = new EventLoop("test-loop"); EventFd bell = new EventFd(); EventFd probe = new EventFd()) {
            AtomicInteger calls = new AtomicInteger();
            CountDownLatch first = new CountDownLatch(1);
            EventLoop.Registration reg = loop.register(bell.fd(), Epoll.EPOLLIN, ev -> {
                calls.incrementAndGet();
                first.countDown();
            });
            CountDownLatch probed = new CountDownLatch(1);
            loop.register(probe.fd(), Epoll.EPOLLIN, ev -> {
                probe.drain();
                probed.countDown();
            });
            // Level-triggered and never drained: it would fire forever; clearing interest must stop it.
            reg.modify(0);
            bell.signal();
            probe.signal();
            assertThat(probed.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(calls.get()).isZero();
            reg.modify(Epoll.EPOLLIN);
            assertThat(first.await(5, TimeUnit.SECONDS)).isTrue();
            reg.modify(0);
        }
    }

    @Test
    void shouldKeepRunningWhenAHandlerThrows() throws Exception {
        try (EventLoop loop = new EventLoop("test-loop"); EventFd bad = new EventFd(); EventFd good = new EventFd()) {
            loop.register(bad.fd(), Epoll.EPOLLIN, ev -> {
                bad.drain();
                throw new IllegalStateException("handler bug");
            });
            CountDownLatch ok = new CountDownLatch(1);
            loop.register(good.fd(), Epoll.EPOLLIN, ev -> {
                good.drain();
                ok.countDown();
            });
            bad.signal();
            good.signal();
            assertThat(ok.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(loop.isRunning()).isTrue();
        }
    }

    @Test
    void shouldStopAndJoinTheThreadOnClose() {
        EventLoop loop = new EventLoop("test-loop");
        assertThat(loop.isRunning()).isTrue();
        loop.close();
        assertThat(loop.isRunning()).isFalse();
        loop.close(); // idempotent
    }
}
