package io.jremus.vmm.net;

import io.jremus.sys.Errno;
import io.jremus.sys.ErrnoException;
import io.jremus.sys.Libc;
import io.jremus.sys.tun.TunConstants;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * A TAP network interface opened for frames with a virtio-net header: every frame read or
 * written carries {@link #VNET_HDR_LEN} bytes of {@code virtio_net_hdr_v1} in front
 * (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, TUNSETVNETHDRSZ 12).
 *
 * <p>Offloads are off (TUNSETOFFLOAD 0): the kernel hands us only whole, checksummed frames of
 * at most the interface MTU, and we hand it the same. Turning on checksum and TSO offloads (and
 * offering the matching virtio-net features) is a later optimisation; it needs the guest's
 * header to be validated and passed through instead of replaced.
 *
 * <p>The fd is non-blocking: {@link #readv} returns {@link #WOULD_BLOCK} when no frame is
 * queued; an {@link EventLoop} says when to try again. The fd has no FileChannel (the JDK cannot
 * wrap a raw int fd), so I/O goes through raw readv/writev downcalls with the calling thread's
 * errno capture. A TAP fd stays bound to the network namespace it was opened in, whichever
 * thread uses it later (see {@link NetNs}).
 */
public final class Tap implements AutoCloseable {
    /** Size of the {@code virtio_net_hdr_v1} in front of each frame. */
    public static final int VNET_HDR_LEN = 12;
    /** {@link #readv} result when no frame is waiting. */
    public static final long WOULD_BLOCK = -1;
    /** IFF_TUN_EXCL ({@code linux/if_tun.h}): fail instead of attaching if the name exists. */
    static final int IFF_TUN_EXCL = 0x8000;
    private static final String HINT = " (does it exist? is it owned by another process? run as root"
            + " or with CAP_NET_ADMIN)";

    private final String name;
    private final int fd;
    private final boolean ownsFd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment zeroHeader = arena.allocate(VNET_HDR_LEN, 8);
    private final IoVec frameIov = new IoVec(2, arena);
    private volatile boolean closed;

    private Tap(String name, int fd, boolean ownsFd) {
        this.name = name;
        this.fd = fd;
        this.ownsFd = ownsFd;
    }

    /**
     * Attaches to an existing TAP interface (made by {@code ip tuntap add dev NAME mode tap}) in
     * the calling thread's network namespace.
     *
     * @throws TapException if it does not exist or cannot be opened, saying why
     */
    public static Tap attach(String name) {
        checkName(name);
        if (NetSyscalls.ifNameToIndex(name) == 0) {
            throw new TapException("cannot open TAP " + name + ": no such interface in this network namespace"
                    + " (create it with: ip tuntap add dev " + name + " mode tap)");
        }
        return open(name, 0);
    }

    /**
     * Creates a new TAP interface in the calling thread's network namespace. It is not
     * persistent: it disappears when this Tap is closed. Fails if the name is taken.
     */
    public static Tap create(String name) {
        checkName(name);
        return open(name, IFF_TUN_EXCL);
    }

    /**
     * Wraps an fd that already behaves like this class's TAP: one frame per read or write, each
     * with a 12-byte virtio-net header in front, non-blocking. For a TAP fd handed over by a
     * privileged parent, or one end of a {@code SOCK_SEQPACKET} socketpair in tests. The Tap
     * takes ownership of the fd and closes it.
     */
    public static Tap wrap(int fd, String name) {
        return new Tap(name, fd, true);
    }

    private static void checkName(String name) {
        byte[] b = name.getBytes(StandardCharsets.US_ASCII);
        if (b.length == 0 || b.length >= TunConstants.IFNAMSIZ || name.contains("/") || name.isBlank()) {
            throw new TapException("invalid TAP name '" + name + "': 1-" + (TunConstants.IFNAMSIZ - 1)
                    + " characters, no '/'");
        }
    }

    private static Tap open(String name, int extraFlags) {
        int fd;
        try {
            fd = Libc.open("/dev/net/tun", Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        } catch (ErrnoException e) {
            throw new TapException("cannot open TAP " + name + ": " + e.getMessage()
                    + " (is the tun module loaded? run as root or with CAP_NET_ADMIN)", e);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ifr = a.allocate(TunConstants.IFREQ_SIZE, 8);
            ifr.setString(0, name, StandardCharsets.US_ASCII);
            ifr.set(ValueLayout.JAVA_SHORT, TunConstants.IFREQ_FLAGS, (short) (TunConstants.IFF_TAP
                    | TunConstants.IFF_NO_PI | TunConstants.IFF_VNET_HDR | extraFlags));
            Libc.ioctl(fd, TunConstants.TUNSETIFF, ifr, "TUNSETIFF");
            Libc.ioctl(fd, TunConstants.TUNSETVNETHDRSZ, a.allocateFrom(ValueLayout.JAVA_INT, VNET_HDR_LEN),
                    "TUNSETVNETHDRSZ(12)");
            Libc.ioctl(fd, TunConstants.TUNSETOFFLOAD, 0L, "TUNSETOFFLOAD(0)");
            String actual = ifr.getString(0, StandardCharsets.US_ASCII);
            return new Tap(actual, fd, true);
        } catch (ErrnoException e) {
            Libc.close(fd);
            String hint = (extraFlags & IFF_TUN_EXCL) != 0 && (e.errno() == Errno.EBUSY || e.errno() == Errno.EEXIST)
                    ? " (an interface of that name already exists)"
                    : e.errno() == Errno.EBUSY ? " (is it open in another process, or not a TAP?)" : HINT;
            throw new TapException("cannot open TAP " + name + ": " + e.getMessage() + hint, e);
        }
    }

    public String name() {
        return name;
    }

    public int fd() {
        return fd;
    }

    /**
     * Reads one frame (header first) into the buffers of {@code iov}.
     *
     * @return the frame's full length including the header (larger than the buffers if the frame
     *         was cut short: the rest is lost), or {@link #WOULD_BLOCK}
     * @throws ErrnoException on any other error
     */
    public long readv(IoVec iov) {
        MemorySegment cs = Libc.captureSegment();
        while (true) {
            long n = Libc.readvRaw(cs, fd, iov.segment(), iov.count());
            if (n >= 0) return n;
            int err = Libc.errno(cs);
            if (err == Errno.EAGAIN) return WOULD_BLOCK;
            if (err != Errno.EINTR) throw new ErrnoException("readv(TAP " + name + ")", err);
        }
    }

    /**
     * Writes one frame gathered from {@code iov}, which starts with its 12-byte header.
     *
     * @return bytes written, or {@link #WOULD_BLOCK} if the interface queue is full
     * @throws ErrnoException on any other error (e.g. EIO when the link is down)
     */
    public long writev(IoVec iov) {
        MemorySegment cs = Libc.captureSegment();
        while (true) {
            long n = Libc.writevRaw(cs, fd, iov.segment(), iov.count());
            if (n >= 0) return n;
            int err = Libc.errno(cs);
            if (err == Errno.EAGAIN) return WOULD_BLOCK;
            if (err != Errno.EINTR) throw new ErrnoException("writev(TAP " + name + ")", err);
        }
    }

    /**
     * Writes one Ethernet frame (no header) with a zeroed virtio-net header in front: for callers
     * holding frames in their own buffers, such as an output buffer releasing them later.
     * {@code frame} must be a native segment. Serialised on this Tap (it shares one iovec).
     */
    public synchronized long writeFrame(MemorySegment frame) {
        frameIov.clear();
        frameIov.add(zeroHeader);
        frameIov.add(frame);
        return writev(frameIov);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (ownsFd) Libc.close(fd);
        arena.close();
    }

    @Override
    public String toString() {
        return "Tap[" + name + ", fd " + fd + "]";
    }
}
