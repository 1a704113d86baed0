package io.jremus.vmm.devices.virtio.blk;

import io.jremus.vmm.devices.virtio.DescriptorChain;
import io.jremus.vmm.devices.virtio.VirtqueueException;
import io.jremus.vmm.memory.GuestMemory;
import io.jremus.vmm.net.IoVec;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out one virtio-blk request held in a validated descriptor chain and writes its status
 * byte. Makes no assumption about how the driver split the request over descriptors (virtio 1.x
 * drivers may merge or split the header, data and status freely): the device-readable bytes are
 * read as one stream (16-byte header, then write data) and the device-writable bytes as another
 * (read data, then the status byte last).
 *
 * <p>What is whose fault: a chain with no device-writable byte cannot be answered, so it is a
 * protocol violation ({@link VirtqueueException}: the device is marked broken). Everything else
 * a guest can get wrong (short header, lengths not a multiple of 512, sectors past the end,
 * buffers in the wrong direction for the type, writes to a read-only disk) is answered with
 * S_IOERR, unknown types with S_UNSUPP, and host I/O errors with S_IOERR; the VMM carries on.
 *
 * <p>Data moves by preadv/pwritev straight between the image and guest memory. Buffers the
 * device fills are taken through {@link GuestMemory#sliceForWrite}, so their pages are marked
 * dirty before the disk writes them (architecture invariant 4). Reuses its vectors and buffers:
 * nothing is allocated per request on the success path. Not thread-safe.
 */
final class BlockRequestHandler {
    private static final Logger LOG = LoggerFactory.getLogger(BlockRequestHandler.class);
    private static final int MAX_LOGGED = 16;

    private final BlockBackend backend;
    private final long capacitySectors;
    private final byte[] serial;
    private final String name;
    private final MemorySegment header;
    private final IoVec iov;
    private final BlockData data = new BlockData();
    private volatile BlockWriteListener listener = BlockWriteListener.NONE;
    private int logged;

    BlockRequestHandler(BlockBackend backend, byte[] serial, int maxSegments, String name, Arena arena) {
        this.backend = backend;
        this.capacitySectors = backend.sizeBytes() >>> VirtioBlk.SECTOR_SHIFT;
        this.serial = serial.clone();
        this.name = name;
        this.header = arena.allocate(VirtioBlk.HEADER_BYTES, 8);
        this.iov = new IoVec(maxSegments, arena);
    }

    BlockWriteListener listener() {
        return listener;
    }

    void listener(BlockWriteListener l) {
        listener = l == null ? BlockWriteListener.NONE : l;
    }

    /**
     * Serves the request in {@code chain} and writes its status.
     *
     * @param writeThrough make each write durable before completing it (the driver did not
     *                     negotiate FLUSH, so it assumes there is no volatile cache)
     * @return bytes written into the chain's device-writable buffers (for the used ring)
     * @throws VirtqueueException if the chain has no byte to put the status in
     */
    long handle(GuestMemory memory, DescriptorChain chain, int queue, boolean writeThrough) throws VirtqueueException {
        long readable = chain.readableBytes();
        long writable = chain.writableBytes();
        long statusGpa = statusAddress(chain);
        if (writable == 0 || statusGpa < 0) {
            throw new VirtqueueException(queue, "block request at head " + chain.head()
                    + " has no device-writable status byte");
        }
        if (readable < VirtioBlk.HEADER_BYTES) {
            return finish(memory, statusGpa, VirtioBlk.S_IOERR, 0, "header of " + readable + " bytes, need 16", chain);
        }
        chain.readInto(memory, header);
        int type = header.get(ValueLayout.JAVA_INT_UNALIGNED, 0);
        long sector = header.get(ValueLayout.JAVA_LONG_UNALIGNED, 8);
        return switch (type) {
            case VirtioBlk.T_IN -> read(memory, chain, statusGpa, sector, readable, writable);
            case VirtioBlk.T_OUT -> write(memory, chain, statusGpa, sector, readable, writable, writeThrough);
            case VirtioBlk.T_FLUSH -> flush(memory, chain, statusGpa);
            case VirtioBlk.T_GET_ID -> getId(memory, chain, statusGpa, writable);
            default -> {
                memory.putByte(statusGpa, (byte) VirtioBlk.S_UNSUPP);
                yield 1;
            }
        };
    }

    private long read(GuestMemory memory, DescriptorChain chain, long statusGpa, long sector, long readable, long writable) {
        long len = writable - 1;
        String bad = readable != VirtioBlk.HEADER_BYTES ? "read request with " + (readable - VirtioBlk.HEADER_BYTES)
                + " extra device-readable bytes" : checkRange(sector, len);
        if (bad != null) return finish(memory, statusGpa, VirtioBlk.S_IOERR, 0, bad, chain);
        iov.clear();
        addRange(memory, chain, true, 0, len);
        try {
            backend.read(sector << VirtioBlk.SECTOR_SHIFT, iov);
        } catch (IOException e) {
            return finish(memory, statusGpa, VirtioBlk.S_IOERR, 0, e.getMessage(), chain);
        }
        return finish(memory, statusGpa, VirtioBlk.S_OK, len, null, chain);
    }

    private long write(GuestMemory memory, DescriptorChain chain, long statusGpa, long sector, long readable,
                       long writable, boolean writeThrough) {
        long len = readable - VirtioBlk.HEADER_BYTES;
        String bad = backend.readOnly() ? "write to a read-only disk"
                : writable != 1 ? "write request with " + (writable - 1) + " extra device-writable bytes"
                : checkRange(sector, len);
        if (bad != null) return finish(memory, statusGpa, VirtioBlk.S_IOERR, 0, bad, chain);
        iov.clear();
        addRange(memory, chain, false, VirtioBlk.HEADER_BYTES, len);
        try {
            listener.beforeWrite(sector, len);
        } catch (RuntimeException e) {
            return finish(memory, statusGpa, VirtioBlk.S_IOERR, 0, "write refused before the disk: " + e.getMessage(), chain);
        }
        try {
            backend.write(sector << VirtioBlk.SECTOR_SHIFT, iov);
            if (writeThrough) backend.flush();
        } catch (IOException e) {
            return finish(memory, statusGpa, VirtioBlk.S_IOERR, 0, e.getMessage(), chain);
        }
        data.wrap(memory, chain, VirtioBlk.HEADER_BYTES, len);
        listener.written(sector, len, data);
        if (writeThrough) listener.flushed();
        return finish(memory, statusGpa, VirtioBlk.S_OK, 0, null, chain);
    }

    private long flush(GuestMemory memory, DescriptorChain chain, long statusGpa) {
        try {
            backend.flush();
        } catch (IOException e) {
            return finish(memory, statusGpa, VirtioBlk.S_IOERR, 0, e.getMessage(), chain);
        }
        listener.flushed();
        return finish(memory, statusGpa, VirtioBlk.S_OK, 0, null, chain);
    }

    private long getId(GuestMemory memory, DescriptorChain chain, long statusGpa, long writable) {
        // The id is 20 bytes, zero-padded; a driver offering less room gets what fits.
        long len = Math.min(VirtioBlk.ID_BYTES, writable - 1);
        long done = 0;
        for (int i = chain.readableCount(); i < chain.count() && done < len; i++) {
            long n = Math.min(chain.length(i), len - done);
            MemorySegment dst = memory.sliceForWrite(chain.address(i), n);
            for (long j = 0; j < n; j++) {
                int k = (int) (done + j);
                dst.set(ValueLayout.JAVA_BYTE, j, k < serial.length ? serial[k] : 0);
            }
            done += n;
        }
        return finish(memory, statusGpa, VirtioBlk.S_OK, len, null, chain);
    }

    /** Null if [sector, sector + len) is a whole number of sectors inside the disk, else why not. */
    private String checkRange(long sector, long len) {
        if (len <= 0 || (len & (VirtioBlk.SECTOR_SIZE - 1)) != 0) return "data length " + len + " is not a positive multiple of 512";
        long sectors = len >>> VirtioBlk.SECTOR_SHIFT;
        if (sector < 0 || sector > capacitySectors || sectors > capacitySectors - sector) {
            return "sectors [" + Long.toUnsignedString(sector) + ", +" + sectors + ") outside the disk of " + capacitySectors;
        }
        return null;
    }

    /** Adds [from, from+len) of the chain's readable (or writable) byte stream to the vector. */
    private void addRange(GuestMemory memory, DescriptorChain chain, boolean writable, long from, long len) {
        int start = writable ? chain.readableCount() : 0;
        int end = writable ? chain.count() : chain.readableCount();
        long pos = 0;
        for (int i = start; i < end && len > 0; i++) {
            long l = chain.length(i);
            if (pos + l > from) {
                long skip = Math.max(0, from - pos);
                long n = Math.min(l - skip, len);
                long gpa = chain.address(i) + skip;
                MemorySegment s = writable ? memory.sliceForWrite(gpa, n) : memory.slice(gpa, n);
                iov.add(s.address(), n);
                len -= n;
            }
            pos += l;
        }
    }

    /** Guest address of the last device-writable byte, or -1 if there is none. */
    private static long statusAddress(DescriptorChain chain) {
        for (int i = chain.count() - 1; i >= chain.readableCount(); i--) {
            if (chain.length(i) > 0) return chain.address(i) + chain.length(i) - 1;
        }
        return -1;
    }

    private long finish(GuestMemory memory, long statusGpa, int status, long dataWritten, String why, DescriptorChain chain) {
        if (why != null && logged < MAX_LOGGED) {
            // A guest can fail requests forever: say it a few times, not for every request.
            logged++;
            LOG.warn("{}: request at head {} failed: {}", name, chain.head(), why);
        }
        memory.putByte(statusGpa, (byte) status);
        return dataWritten + 1;
    }
}
