package io.jremus.vmm.devices.virtio.blk;

import io.jremus.vmm.devices.virtio.DescriptorChain;
import io.jremus.vmm.memory.GuestMemory;
import java.lang.foreign.MemorySegment;

/**
 * The data of one write request as it lies in guest memory: a range of a descriptor chain's
 * device-readable buffers, possibly spread over several of them. A reused flyweight handed to
 * {@link BlockWriteListener#written}; valid only during that call.
 */
public final class BlockData {
    private GuestMemory memory;
    private DescriptorChain chain;
    private long from;
    private long length;

    void wrap(GuestMemory memory, DescriptorChain chain, long from, long length) {
        this.memory = memory;
        this.chain = chain;
        this.from = from;
        this.length = length;
    }

    public long length() {
        return length;
    }

    /** Copies all {@link #length()} bytes into {@code dst} at {@code dstOffset}. */
    public void copyTo(MemorySegment dst, long dstOffset) {
        long pos = 0;
        long done = 0;
        for (int i = 0; i < chain.readableCount() && done < length; i++) {
            long l = chain.length(i);
            if (pos + l > from) {
                long skip = Math.max(0, from - pos);
                long n = Math.min(l - skip, length - done);
                MemorySegment.copy(memory.slice(chain.address(i) + skip, n), 0, dst, dstOffset + done, n);
                done += n;
            }
            pos += l;
        }
    }

    /** A copy in a new array (for tests and slow paths). */
    public byte[] toArray() {
        byte[] out = new byte[Math.toIntExact(length)];
        copyTo(MemorySegment.ofArray(out), 0);
        return out;
    }
}
