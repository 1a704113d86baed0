package io.jremus.vmm.devices.virtio;

import io.jremus.vmm.memory.GuestMemory;
import java.lang.foreign.MemorySegment;

/**
 * One validated descriptor chain popped from a {@link Virtqueue}: its head index and its
 * buffers, device-readable ones first, then device-writable ones. Every buffer was checked to
 * lie inside guest RAM when the chain was popped, and the values were copied here, so later
 * guest writes to the descriptor table cannot change what the device acts on.
 *
 * <p>Reusable: a device keeps one (from {@link Virtqueue#newChain()}) per queue and refills it
 * with each {@code pop}; the arrays are sized for the longest legal chain, so popping allocates
 * nothing. Not thread-safe; belongs to the thread that owns the queue.
 */
public final class DescriptorChain {
    private final long[] addresses;
    private final int[] lengths;
    private int head = -1;
    private int count;
    private int firstWritable;

    DescriptorChain(int capacity) {
        addresses = new long[capacity];
        lengths = new int[capacity];
    }

    void reset(int head) {
        this.head = head;
        count = 0;
        firstWritable = -1;
    }

    void add(long address, long length, boolean writable) {
        if (writable && firstWritable < 0) firstWritable = count;
        addresses[count] = address;
        lengths[count] = (int) length;
        count++;
    }

    int capacity() {
        return addresses.length;
    }

    /** The head descriptor index, to hand back in {@link Virtqueue#addUsed}. */
    public int head() {
        return head;
    }

    /** Number of buffers. */
    public int count() {
        return count;
    }

    public long address(int i) {
        return addresses[i];
    }

    /** Buffer length in bytes (unsigned 32-bit, returned widened). */
    public long length(int i) {
        return Integer.toUnsignedLong(lengths[i]);
    }

    public boolean isWritable(int i) {
        return firstWritable >= 0 && i >= firstWritable;
    }

    /** Number of device-readable buffers; they are buffers {@code 0 .. readableCount()-1}. */
    public int readableCount() {
        return firstWritable < 0 ? count : firstWritable;
    }

    public long readableBytes() {
        long total = 0;
        for (int i = 0; i < readableCount(); i++) total += length(i);
        return total;
    }

    public long writableBytes() {
        long total = 0;
        for (int i = readableCount(); i < count; i++) total += length(i);
        return total;
    }

    /**
     * Copies the device-readable bytes, in order, into {@code dst} until either runs out.
     *
     * @return bytes copied
     */
    public long readInto(GuestMemory memory, MemorySegment dst) {
        long done = 0;
        for (int i = 0; i < readableCount() && done < dst.byteSize(); i++) {
            long n = Math.min(length(i), dst.byteSize() - done);
            MemorySegment.copy(memory.slice(address(i), n), 0, dst, done, n);
            done += n;
        }
        return done;
    }

    /**
     * Copies {@code src} into the device-writable buffers, in order, until either runs out. The
     * pages written are marked dirty (architecture invariant 4).
     *
     * @return bytes written: the length to report in the used ring
     */
    public long writeFrom(GuestMemory memory, MemorySegment src) {
        long done = 0;
        for (int i = readableCount(); i < count && done < src.byteSize(); i++) {
            long n = Math.min(length(i), src.byteSize() - done);
            MemorySegment.copy(src, done, memory.sliceForWrite(address(i), n), 0, n);
            done += n;
        }
        return done;
    }
}
