package io.jremus.vmm.devices.virtio.blk;

import io.jremus.sys.Errno;
import io.jremus.sys.ErrnoException;
import io.jremus.sys.Libc;
import io.jremus.vmm.net.IoVec;
import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A raw disk image file (no format: byte {@code n} of the file is byte {@code n} of the disk),
 * read and written with {@code preadv}/{@code pwritev} directly between the file and guest
 * memory, one system call per request in the common case. The size is taken once, at open;
 * growing the file underneath a running guest is not supported.
 *
 * <p>preadv/pwritev are bound here with their own raw handles (Libc has only checked pread and
 * pwrite, which build their error text on every call): the per-request path allocates nothing.
 */
public final class RawImageFile implements BlockBackend {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final MethodHandle PREADV = LINKER.downcallHandle(LINKER.defaultLookup().find("preadv").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG), ERRNO);
    private static final MethodHandle PWRITEV = LINKER.downcallHandle(LINKER.defaultLookup().find("pwritev").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG), ERRNO);

    private final Path path;
    private final int fd;
    private final long size;
    private final boolean readOnly;
    private boolean closed;

    private RawImageFile(Path path, int fd, long size, boolean readOnly) {
        this.path = path;
        this.fd = fd;
        this.size = size;
        this.readOnly = readOnly;
    }

    /**
     * Opens {@code path} read-write, or read-only when asked (then the guest's writes fail
     * with IOERR and the file is never opened for writing).
     *
     * @throws IOException if the file is missing, unreadable, or smaller than one sector
     */
    public static RawImageFile open(Path path, boolean readOnly) throws IOException {
        if (!Files.isRegularFile(path)) throw new IOException("disk image " + path + " is not a regular file");
        long bytes = Files.size(path) & ~(long) (VirtioBlk.SECTOR_SIZE - 1);
        if (bytes == 0) throw new IOException("disk image " + path + " is smaller than one 512-byte sector");
        int fd;
        try {
            fd = Libc.open(path.toString(), (readOnly ? Libc.O_RDONLY : Libc.O_RDWR) | Libc.O_CLOEXEC, 0);
        } catch (ErrnoException e) {
            throw new IOException("cannot open disk image " + path + (readOnly ? " read-only" : " read-write") + ": "
                    + e.getMessage(), e);
        }
        return new RawImageFile(path, fd, bytes, readOnly);
    }

    public Path path() {
        return path;
    }

    @Override
    public long sizeBytes() {
        return size;
    }

    @Override
    public boolean readOnly() {
        return readOnly;
    }

    @Override
    public String id() {
        Path name = path.getFileName();
        return name == null ? path.toString() : name.toString();
    }

    @Override
    public void read(long offset, IoVec iov) throws IOException {
        transfer(PREADV, "preadv", offset, iov);
    }

    @Override
    public void write(long offset, IoVec iov) throws IOException {
        if (readOnly) throw new IOException(path + " is read-only");
        transfer(PWRITEV, "pwritev", offset, iov);
    }

    /** Runs the call until the whole vector is done: regular files may return short counts (signals, >2 GiB). */
    private void transfer(MethodHandle call, String name, long offset, IoVec iov) throws IOException {
        MemorySegment cs = Libc.captureSegment();
        long total = iov.totalBytes();
        long done = 0;
        int first = 0;
        while (done < total) {
            long n;
            try {
                MemorySegment vec = first == 0 ? iov.segment() : iov.segment().asSlice(IoVec.ENTRY * first);
                n = (long) call.invokeExact(cs, fd, vec, iov.count() - first, offset + done);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
            if (n < 0) {
                int err = Libc.errno(cs);
                if (err == Errno.EINTR) continue;
                throw new IOException(name + "(" + path + ", " + (total - done) + " bytes @" + (offset + done) + "): "
                        + Errno.describe(err));
            }
            if (n == 0) throw new IOException(name + "(" + path + ") hit end of file at " + (offset + done) + " (was the image truncated?)");
            done += n;
            if (done < total) first = iov.advance(first, n);
        }
    }

    @Override
    public void flush() throws IOException {
        try {
            Libc.fdatasync(fd);
        } catch (ErrnoException e) {
            throw new IOException("fdatasync(" + path + "): " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        Libc.close(fd);
    }

    @Override
    public String toString() {
        return "RawImageFile[" + path + (readOnly ? ", ro" : "") + ", " + size + " bytes]";
    }
}
