package io.jremus.vmm.net;

import io.jremus.sys.ErrnoException;
import io.jremus.sys.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A non-blocking AF_UNIX SOCK_SEQPACKET socketpair: each write is one message and each read
 * returns one, like a TAP's frames, so one end can stand in for a TAP ({@link Tap#wrap}) in
 * tests that need no root. Messages are "12-byte virtio-net header + frame", as on a TAP.
 */
public final class SocketPair {
    private static final Linker L = Linker.nativeLinker();
    private static final MethodHandle SOCKETPAIR = L.downcallHandle(L.defaultLookup().find("socketpair").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), Linker.Option.captureCallState("errno"));

    /** Returns {device end, test end}. */
    public static int[] seqpacket() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fds = a.allocate(JAVA_INT, 2);
            int rc = (int) SOCKETPAIR.invokeExact(Libc.captureSegment(), 1 /*AF_UNIX*/,
                    5 /*SOCK_SEQPACKET*/ | 04000 /*SOCK_NONBLOCK*/ | 02000000 /*SOCK_CLOEXEC*/, 0, fds);
            if (rc < 0) throw new ErrnoException("socketpair", Libc.errno());
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Sends one message (blocking semantics are not needed: the socket buffer is ample). */
    public static void send(int fd, byte[] message) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(message.length);
            m.copyFrom(MemorySegment.ofArray(message));
            Libc.write(fd, m);
        }
    }

    /** Receives one message, or null if none is waiting. */
    public static byte[] receive(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(70_000);
            long n = Libc.readRaw(Libc.captureSegment(), fd, m, m.byteSize());
            if (n < 0) return null;
            return m.asSlice(0, n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        }
    }
}
