package io.jremus.vmm.net;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * {@code epoll} constants ({@code sys/epoll.h}) and accessors for {@code struct epoll_event}.
 * On x86-64 the struct is packed: a u32 event mask then a u64 of user data at offset 4, 12
 * bytes in all, so arrays of it have a 12-byte stride and the data is unaligned.
 */
public final class Epoll {
    private Epoll() {
    }

    public static final int EPOLLIN = 0x001;
    public static final int EPOLLOUT = 0x004;
    public static final int EPOLLERR = 0x008;
    public static final int EPOLLHUP = 0x010;
    public static final int EPOLLET = 1 << 31;

    static final int EPOLL_CTL_ADD = 1;
    static final int EPOLL_CTL_DEL = 2;
    static final int EPOLL_CTL_MOD = 3;
    static final int EPOLL_CLOEXEC = 02000000;

    static final long EVENT_SIZE = 12;
    private static final long DATA_OFFSET = 4;

    static int events(MemorySegment array, int i) {
        return array.get(ValueLayout.JAVA_INT_UNALIGNED, i * EVENT_SIZE);
    }

    static long data(MemorySegment array, int i) {
        return array.get(ValueLayout.JAVA_LONG_UNALIGNED, i * EVENT_SIZE + DATA_OFFSET);
    }

    static void set(MemorySegment event, int events, long data) {
        event.set(ValueLayout.JAVA_INT_UNALIGNED, 0, events);
        event.set(ValueLayout.JAVA_LONG_UNALIGNED, DATA_OFFSET, data);
    }
}
