package io.jremus.vmm.net;

import io.jremus.sys.Errno;
import io.jremus.sys.ErrnoException;
import io.jremus.sys.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A non-blocking Linux eventfd used as a doorbell: any thread {@link #signal()}s it, the
 * thread that polls it {@link #drain()}s it. Neither allocates: the 8-byte value buffers are
 * native and made once (one for signallers, whose content never changes, and one for the
 * single drainer). Stop every signaller before {@link #close()}.
 */
public final class EventFd implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment one = arena.allocate(8, 8);
    private final MemorySegment sink = arena.allocate(8, 8);
    private final int fd;
    private volatile boolean closed;

    public EventFd() {
        fd = Libc.eventfd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        one.set(ValueLayout.JAVA_LONG, 0, 1L);
    }

    public int fd() {
        return fd;
    }

    /** Adds 1 to the counter, waking whoever polls the fd. Safe from any thread. */
    public void signal() {
        if (closed) return;
        long n = Libc.writeRaw(Libc.captureSegment(), fd, one, 8);
        // EAGAIN only when the counter is about to overflow 2^64-2: it is already signalled.
        if (n < 0 && Libc.errno() != Errno.EAGAIN) throw new ErrnoException("eventfd write", Libc.errno());
    }

    /** Resets the counter to 0; returns whether it had been signalled. Call from the polling thread only. */
    public boolean drain() {
        long n = Libc.readRaw(Libc.captureSegment(), fd, sink, 8);
        if (n < 0 && Libc.errno() != Errno.EAGAIN) throw new ErrnoException("eventfd read", Libc.errno());
        return n == 8;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        // Arena first: a late signal() then fails on the closed buffer instead of writing to
        // whatever file reuses this fd number.
        arena.close();
        Libc.close(fd);
    }
}
