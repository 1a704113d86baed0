package io.jremus.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The libc calls the VMM makes, as FFM downcalls (no JNI).
 *
 * <p>Two flavours: the checked wrappers ({@code open}, {@code ioctl}, ...) throw
 * {@link ErrnoException}; the {@code raw} ones return the C result and leave errno in a
 * per-thread capture segment ({@link #errno()}), for hot paths such as {@code KVM_RUN} that
 * branch on EINTR without allocating. Handles are never marked {@code critical}: a vCPU
 * thread blocks in {@code KVM_RUN} and must not hold up GC safepoints (see shared notes).
 *
 * <p>Assumes x86-64 Linux with glibc.
 */
public final class Libc {
    private Libc() {
    }

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    /** One capture segment per thread: errno is per-thread state. */
    private static final ThreadLocal<MemorySegment> CAPTURE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE_LAYOUT));

    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0100;
    public static final int O_NONBLOCK = 04000;
    public static final int O_CLOEXEC = 02000000;

    public static final int PROT_NONE = 0;
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_NORESERVE = 0x4000;

    public static final int MADV_DONTNEED = 4;
    public static final int MADV_HUGEPAGE = 14;
    public static final int MADV_DONTDUMP = 16;

    public static final int EFD_NONBLOCK = 04000;
    public static final int EFD_CLOEXEC = 02000000;
    public static final int MFD_CLOEXEC = 1;

    public static final int SIG_BLOCK = 0;
    public static final int SIG_UNBLOCK = 1;
    public static final int SIG_SETMASK = 2;

    private static MethodHandle find(String name, FunctionDescriptor fd, Linker.Option... options) {
        MemorySegment sym = LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(sym, fd, options);
    }

    private static final MethodHandle OPEN = find("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
            CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = find("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle IOCTL_PTR = find("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
            CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle IOCTL_LONG = find("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG),
            CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle MMAP = find("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), CAPTURE_ERRNO);
    private static final MethodHandle MUNMAP = find("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), CAPTURE_ERRNO);
    private static final MethodHandle MADVISE = find("madvise", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle READ = find("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), CAPTURE_ERRNO);
    private static final MethodHandle WRITE = find("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), CAPTURE_ERRNO);
    private static final MethodHandle READV = find("readv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle WRITEV = find("writev", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle PREAD = find("pread64", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), CAPTURE_ERRNO);
    private static final MethodHandle PWRITE = find("pwrite64", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), CAPTURE_ERRNO);
    private static final MethodHandle FDATASYNC = find("fdatasync", FunctionDescriptor.of(JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle EVENTFD = find("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle MEMFD_CREATE = find("memfd_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle FTRUNCATE = find("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG), CAPTURE_ERRNO);
    private static final MethodHandle EPOLL_CREATE1 = find("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle EPOLL_CTL = find("epoll_ctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), CAPTURE_ERRNO);
    private static final MethodHandle EPOLL_WAIT = find("epoll_wait", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle POLL = find("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle SCHED_SETAFFINITY = find("sched_setaffinity", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), CAPTURE_ERRNO);
    private static final MethodHandle SIGTIMEDWAIT = find("sigtimedwait", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS), CAPTURE_ERRNO);
    private static final MethodHandle GETTID = find("gettid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETPID = find("getpid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETEUID = find("geteuid", FunctionDescriptor.of(JAVA_INT));
    // pthread_* report errors in their return value, not errno.
    private static final MethodHandle PTHREAD_SELF = find("pthread_self", FunctionDescriptor.of(JAVA_LONG));
    private static final MethodHandle PTHREAD_KILL = find("pthread_kill", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle PTHREAD_SIGMASK = find("pthread_sigmask", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle STRERROR = find("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    private static final MethodHandle SIGRTMIN = find("__libc_current_sigrtmin", FunctionDescriptor.of(JAVA_INT));

    /** This thread's errno capture segment, for the raw calls. */
    public static MemorySegment captureSegment() {
        return CAPTURE.get();
    }

    /** errno left by the last raw call on this thread. */
    public static int errno() {
        return (int) ERRNO.get(CAPTURE.get(), 0L);
    }

    /** errno from an explicit capture segment (for loops that hold theirs in a local). */
    public static int errno(MemorySegment capture) {
        return (int) ERRNO.get(capture, 0L);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    private static int check(int rc, String call) {
        if (rc < 0) throw new ErrnoException(call, errno());
        return rc;
    }

    private static long check(long rc, String call) {
        if (rc < 0) throw new ErrnoException(call, errno());
        return rc;
    }

    public static int open(String path, int flags, int mode) {
        try (Arena a = Arena.ofConfined()) {
            return check((int) OPEN.invokeExact(CAPTURE.get(), a.allocateFrom(path), flags, mode), "open(" + path + ")");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void close(int fd) {
        try {
            check((int) CLOSE.invokeExact(CAPTURE.get(), fd), "close(" + fd + ")");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** ioctl with a pointer argument; throws on failure with {@code name} in the message. */
    public static int ioctl(int fd, long request, MemorySegment arg, String name) {
        return check(ioctlRaw(CAPTURE.get(), fd, request, arg), name);
    }

    /** ioctl with an integer argument; throws on failure with {@code name} in the message. */
    public static int ioctl(int fd, long request, long arg, String name) {
        return check(ioctlRaw(CAPTURE.get(), fd, request, arg), name);
    }

    public static int ioctlRaw(MemorySegment capture, int fd, long request, MemorySegment arg) {
        try {
            return (int) IOCTL_PTR.invokeExact(capture, fd, request, arg);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int ioctlRaw(MemorySegment capture, int fd, long request, long arg) {
        try {
            return (int) IOCTL_LONG.invokeExact(capture, fd, request, arg);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * mmap, returning a segment of {@code len} bytes whose unmapping is tied to {@code arena}
     * (use a shared arena for memory other threads touch).
     */
    public static MemorySegment mmap(long len, int prot, int flags, int fd, long offset, Arena arena, String what) {
        try {
            MemorySegment p = (MemorySegment) MMAP.invokeExact(CAPTURE.get(), MemorySegment.NULL, len, prot, flags, fd, offset);
            if (p.address() == -1L) throw new ErrnoException("mmap(" + what + ", " + len + " bytes)", errno());
            return p.reinterpret(len, arena, s -> munmapQuietly(s, len));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static void munmapQuietly(MemorySegment s, long len) {
        try {
            int ignored = (int) MUNMAP.invokeExact(CAPTURE.get(), s, len);
        } catch (Throwable ignored) {
            // Nothing useful to do while an arena closes.
        }
    }

    public static void madvise(MemorySegment seg, int advice) {
        try {
            check((int) MADVISE.invokeExact(CAPTURE.get(), seg, seg.byteSize(), advice), "madvise(" + advice + ")");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long readRaw(MemorySegment capture, int fd, MemorySegment buf, long len) {
        try {
            return (long) READ.invokeExact(capture, fd, buf, len);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long writeRaw(MemorySegment capture, int fd, MemorySegment buf, long len) {
        try {
            return (long) WRITE.invokeExact(capture, fd, buf, len);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long readvRaw(MemorySegment capture, int fd, MemorySegment iov, int iovcnt) {
        try {
            return (long) READV.invokeExact(capture, fd, iov, iovcnt);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long writevRaw(MemorySegment capture, int fd, MemorySegment iov, int iovcnt) {
        try {
            return (long) WRITEV.invokeExact(capture, fd, iov, iovcnt);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long read(int fd, MemorySegment buf) {
        return check(readRaw(CAPTURE.get(), fd, buf, buf.byteSize()), "read(" + fd + ")");
    }

    public static long write(int fd, MemorySegment buf) {
        return check(writeRaw(CAPTURE.get(), fd, buf, buf.byteSize()), "write(" + fd + ")");
    }

    public static long pread(int fd, MemorySegment buf, long len, long offset) {
        try {
            return check((long) PREAD.invokeExact(CAPTURE.get(), fd, buf, len, offset), "pread(" + fd + ", @" + offset + ")");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long pwrite(int fd, MemorySegment buf, long len, long offset) {
        try {
            return check((long) PWRITE.invokeExact(CAPTURE.get(), fd, buf, len, offset), "pwrite(" + fd + ", @" + offset + ")");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void fdatasync(int fd) {
        try {
            check((int) FDATASYNC.invokeExact(CAPTURE.get(), fd), "fdatasync(" + fd + ")");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int eventfd(int initial, int flags) {
        try {
            return check((int) EVENTFD.invokeExact(CAPTURE.get(), initial, flags), "eventfd");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int memfdCreate(String name, int flags) {
        try (Arena a = Arena.ofConfined()) {
            return check((int) MEMFD_CREATE.invokeExact(CAPTURE.get(), a.allocateFrom(name), flags), "memfd_create(" + name + ")");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void ftruncate(int fd, long len) {
        try {
            check((int) FTRUNCATE.invokeExact(CAPTURE.get(), fd, len), "ftruncate(" + fd + ", " + len + ")");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int epollCreate1(int flags) {
        try {
            return check((int) EPOLL_CREATE1.invokeExact(CAPTURE.get(), flags), "epoll_create1");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void epollCtl(int epfd, int op, int fd, MemorySegment event) {
        try {
            check((int) EPOLL_CTL.invokeExact(CAPTURE.get(), epfd, op, fd, event), "epoll_ctl(" + op + ", " + fd + ")");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int epollWaitRaw(MemorySegment capture, int epfd, MemorySegment events, int max, int timeoutMs) {
        try {
            return (int) EPOLL_WAIT.invokeExact(capture, epfd, events, max, timeoutMs);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int pollRaw(MemorySegment capture, MemorySegment fds, long nfds, int timeoutMs) {
        try {
            return (int) POLL.invokeExact(capture, fds, nfds, timeoutMs);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Pins the calling thread (tid 0) to the CPUs in {@code mask} (bit i = CPU i). */
    public static void schedSetaffinity(long mask) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment set = a.allocate(128);
            set.set(JAVA_LONG, 0, mask);
            check((int) SCHED_SETAFFINITY.invokeExact(CAPTURE.get(), 0, 128L, set), "sched_setaffinity");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** sigtimedwait; returns the signal number, or -1 with errno (EAGAIN when nothing was pending). */
    public static int sigtimedwaitRaw(MemorySegment capture, MemorySegment set, MemorySegment info, MemorySegment timeout) {
        try {
            return (int) SIGTIMEDWAIT.invokeExact(capture, set, info, timeout);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int gettid() {
        try {
            return (int) GETTID.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int getpid() {
        try {
            return (int) GETPID.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int geteuid() {
        try {
            return (int) GETEUID.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long pthreadSelf() {
        try {
            return (long) PTHREAD_SELF.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Sends {@code sig} to one thread; returns 0 or the error number (pthread style). */
    public static int pthreadKill(long thread, int sig) {
        try {
            return (int) PTHREAD_KILL.invokeExact(thread, sig);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void pthreadSigmask(int how, MemorySegment set, MemorySegment old) {
        try {
            int err = (int) PTHREAD_SIGMASK.invokeExact(how, set, old);
            if (err != 0) throw new ErrnoException("pthread_sigmask", err);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int sigrtmin() {
        try {
            return (int) SIGRTMIN.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }
}
