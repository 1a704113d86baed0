package io.jremus.vmm.net;

import io.jremus.sys.Errno;
import io.jremus.sys.ErrnoException;
import io.jremus.sys.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One platform thread waiting in {@code epoll_wait} on registered file descriptors (a TAP fd,
 * device doorbell eventfds) and calling each one's {@link Handler} when it is ready. Nothing
 * polls: the thread sleeps in the kernel until an fd is ready or {@link #close()} rings the
 * loop's own eventfd.
 *
 * <p>Handlers run on the loop thread, one at a time, and must not block. A handler that throws
 * is logged and the loop carries on (one broken device must not stop the others). Handlers must
 * tolerate being called when nothing is ready (a registration may be closed while its event is
 * already in the batch being dispatched; slots are not reused, so it is never another fd's).
 *
 * <p>{@link #register}, {@link Registration#modify} and {@link Registration#close} may be called
 * from any thread; dispatch reads the handler table without locking (copy-on-write array).
 */
public final class EventLoop implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EventLoop.class);
    private static final int MAX_EVENTS = 64;
    private static final long STOP_SLOT = 0;

    /** Called on the loop thread with the ready events ({@link Epoll#EPOLLIN}, ...). */
    @FunctionalInterface
    public interface Handler {
        void ready(int events);
    }

    /** One fd's registration; closing it removes the fd from the loop (the fd itself stays open). */
    public final class Registration implements AutoCloseable {
        private final int fd;
        private final int slot;
        private final MemorySegment event;
        private boolean closed;

        private Registration(int fd, int slot, MemorySegment event) {
            this.fd = fd;
            this.slot = slot;
            this.event = event;
        }

        public int fd() {
            return fd;
        }

        /** Replaces the event mask (0 stops reporting the fd until the next modify). */
        public synchronized void modify(int events) {
            if (closed || loopClosed) return;
            Epoll.set(event, events, slot);
            Libc.epollCtl(epfd, Epoll.EPOLL_CTL_MOD, fd, event);
        }

        @Override
        public void close() {
            synchronized (this) {
                if (closed) return;
                closed = true;
                if (!loopClosed) Libc.epollCtl(epfd, Epoll.EPOLL_CTL_DEL, fd, event);
            }
            synchronized (EventLoop.this) {
                Handler[] copy = handlers.clone();
                copy[slot] = null;
                handlers = copy;
            }
        }
    }

    private final String name;
    private final Arena arena = Arena.ofShared();
    private final int epfd;
    private final EventFd stop = new EventFd();
    private final MemorySegment events = arena.allocate(Epoll.EVENT_SIZE * MAX_EVENTS, 8);
    private final Thread thread;
    private volatile Handler[] handlers = new Handler[8];
    private int nextSlot = 1;
    private volatile boolean stopping;
    private volatile boolean loopClosed;

    /** Creates the epoll instance and starts the loop thread, named {@code name}. */
    public EventLoop(String name) {
        this.name = name;
        this.epfd = Libc.epollCreate1(Epoll.EPOLL_CLOEXEC);
        MemorySegment ev = arena.allocate(Epoll.EVENT_SIZE, 8);
        Epoll.set(ev, Epoll.EPOLLIN, STOP_SLOT);
        Libc.epollCtl(epfd, Epoll.EPOLL_CTL_ADD, stop.fd(), ev);
        thread = Thread.ofPlatform().name(name).daemon(true).unstarted(this::run);
        thread.start();
    }

    /**
     * Starts watching {@code fd} for {@code events} (level-triggered unless {@link Epoll#EPOLLET}
     * is included) and calling {@code handler} on the loop thread when it is ready.
     */
    public synchronized Registration register(int fd, int events, Handler handler) {
        if (stopping) throw new IllegalStateException(name + " is closed");
        int slot = nextSlot++;
        if (slot >= handlers.length) handlers = Arrays.copyOf(handlers, handlers.length * 2);
        Handler[] copy = handlers.clone();
        copy[slot] = handler;
        handlers = copy; // published before the fd can fire
        MemorySegment ev = arena.allocate(Epoll.EVENT_SIZE, 8);
        Epoll.set(ev, events, slot);
        try {
            Libc.epollCtl(epfd, Epoll.EPOLL_CTL_ADD, fd, ev);
        } catch (ErrnoException e) {
            copy = handlers.clone();
            copy[slot] = null;
            handlers = copy;
            throw e;
        }
        return new Registration(fd, slot, ev);
    }

    /** Whether the caller is the loop thread (handlers may then act directly instead of ringing a doorbell). */
    public boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    public boolean isRunning() {
        return thread.isAlive();
    }

    private void run() {
        MemorySegment capture = Libc.captureSegment();
        while (!stopping) {
            int n = Libc.epollWaitRaw(capture, epfd, events, MAX_EVENTS, -1);
            if (n < 0) {
                int err = Libc.errno(capture);
                if (err == Errno.EINTR) continue;
                LOG.error("{}: epoll_wait failed: {}; loop stops", name, Errno.describe(err));
                return;
            }
            Handler[] table = handlers;
            for (int i = 0; i < n && !stopping; i++) {
                long slot = Epoll.data(events, i);
                if (slot == STOP_SLOT) {
                    stop.drain();
                    continue;
                }
                Handler h = slot < table.length ? table[(int) slot] : null;
                if (h == null) continue;
                try {
                    h.ready(Epoll.events(events, i));
                } catch (RuntimeException | Error e) {
                    LOG.error("{}: handler for slot {} failed", name, slot, e);
                }
            }
        }
    }

    /**
     * Stops the loop thread (wakes it through its eventfd), waits for it, and releases the
     * epoll fd. Registered fds are not closed: their owners close them. Idempotent.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (stopping) return;
            stopping = true;
        }
        stop.signal();
        if (!inLoop()) {
            boolean interrupted = false;
            while (thread.isAlive()) {
                try {
                    thread.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
        }
        loopClosed = true;
        stop.close();
        Libc.close(epfd);
        arena.close();
    }

    @Override
    public String toString() {
        return name;
    }
}
