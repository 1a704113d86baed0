package io.jremus.vmm.devices.virtio;

import io.jremus.vmm.memory.GuestMemory;
import io.jremus.vmm.memory.GuestMemoryException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * A live split virtqueue (virtio 1.x §2.7) on the device side: pops descriptor chains the driver
 * made available and publishes used ones. Everything the guest wrote is untrusted: the ring
 * placement is checked once at creation, and each chain is validated in full as it is popped
 * (index bounds, loops, buffers inside RAM, readable-before-writable, indirect tables), so a
 * device only ever sees a well-formed {@link DescriptorChain}. A violation is a
 * {@link VirtqueueException} naming the queue and the values.
 *
 * <pre>
 *   descriptor table  16 * size, align 16
 *   available ring    flags u16, idx u16, ring[size] u16, used_event u16 (EVENT_IDX)   align 2
 *   used ring         flags u16, idx u16, ring[size] {id u32, len u32}, avail_event u16  align 4
 * </pre>
 *
 * <p>Memory ordering with the guest: the available index is read, then an acquire fence orders
 * the reads of the ring and descriptors after it; a used element is written, then a release
 * fence orders it before the used index store; a full fence separates our index stores from
 * our reads of the driver's suppression hints (and vice versa), as the spec's store-load
 * pairs require. Every store into guest RAM goes through {@link GuestMemory}'s writing
 * accessors, so its page is marked dirty (architecture invariant 4).
 *
 * <p>Not thread-safe: each queue is driven by one thread at a time (a vCPU thread via
 * queueNotify, or the device's own worker); the device decides which and hands over with a
 * happens-before edge. Checkpoints read {@link #save} only after device threads are quiesced.
 */
public final class Virtqueue {
    /** Largest size the split ring allows. */
    public static final int MAX_SIZE = 32768;
    static final int AVAIL_F_NO_INTERRUPT = 1;

    private final int index;
    private final int size;
    private final long descAddr;
    private final long availAddr;
    private final long usedAddr;
    private final boolean eventIdx;
    private final boolean indirect;
    private final GuestMemory memory;
    /** Read view of the queue's own descriptor table (checked once to lie in RAM). */
    private final MemorySegment descTable;
    private final Descriptor desc = new Descriptor();

    private int nextAvail;
    private int nextUsed;
    /** The used index at the last interrupt decision, for EVENT_IDX suppression. */
    private int signalledUsed;

    private Virtqueue(int index, QueueState s, boolean indirect, GuestMemory memory) {
        this.index = index;
        this.size = s.size();
        this.descAddr = s.descAddr();
        this.availAddr = s.driverAddr();
        this.usedAddr = s.deviceAddr();
        this.eventIdx = s.eventIdx();
        this.indirect = indirect;
        this.memory = memory;
        this.descTable = memory.slice(descAddr, (long) Descriptor.SIZE * size);
        this.nextAvail = s.nextAvail();
        this.nextUsed = s.nextUsed();
        this.signalledUsed = s.nextUsed();
    }

    /**
     * Makes a live queue from untrusted state after checking it: size a power of two no larger
     * than {@code maxSize}, each ring aligned as the spec requires and wholly inside guest RAM,
     * indices in 16 bits.
     *
     * @param indirect whether VIRTIO_F_INDIRECT_DESC was negotiated
     */
    public static Virtqueue create(int index, int maxSize, QueueState s, boolean indirect, GuestMemory memory)
            throws VirtqueueException {
        checkSize(index, maxSize, s.size());
        int extra = s.eventIdx() ? 2 : 0;
        checkArea(index, "descriptor table", s.descAddr(), (long) Descriptor.SIZE * s.size(), 16, memory);
        checkArea(index, "available ring", s.driverAddr(), 6 + 2L * s.size() + extra, 2, memory);
        checkArea(index, "used ring", s.deviceAddr(), 6 + 8L * s.size() + extra, 4, memory);
        if ((s.nextAvail() & ~0xFFFF) != 0 || (s.nextUsed() & ~0xFFFF) != 0) {
            throw new VirtqueueException(index, "ring indices avail=" + s.nextAvail() + " used=" + s.nextUsed()
                    + " do not fit 16 bits");
        }
        return new Virtqueue(index, s, indirect, memory);
    }

    /** Checks a queue size against the device's maximum; shared with register and restore paths. */
    static void checkSize(int index, int maxSize, int size) throws VirtqueueException {
        if (size > maxSize) {
            throw new VirtqueueException(index, "size " + size + " exceeds max " + maxSize);
        }
        if (size <= 0 || Integer.bitCount(size) != 1) {
            throw new VirtqueueException(index, "size " + size + " is not a power of 2");
        }
    }

    private static void checkArea(int index, String what, long addr, long len, int align, GuestMemory memory)
            throws VirtqueueException {
        if ((addr & (align - 1)) != 0) {
            throw new VirtqueueException(index, what + " at 0x" + Long.toHexString(addr)
                    + " is not aligned to " + align);
        }
        if (!memory.contains(addr, len)) {
            throw new VirtqueueException(index, what + " [0x" + Long.toHexString(addr) + ", +0x"
                    + Long.toHexString(len) + ") is outside guest RAM");
        }
    }

    public int index() {
        return index;
    }

    public int size() {
        return size;
    }

    /** A chain object to reuse with {@link #pop}; sized for the longest legal chain. */
    public DescriptorChain newChain() {
        return new DescriptorChain(size);
    }

    /**
     * Takes the next available chain into {@code chain}.
     *
     * <p>With EVENT_IDX, finding the ring empty also asks the driver to notify us when it adds
     * the next buffer (avail_event), then looks once more to close the race with a driver that
     * added one meanwhile. A device that stops popping before the ring is empty (no room to send,
     * no packet to deliver) must come back to the queue by itself.
     *
     * @return false if the driver has made nothing new available
     * @throws VirtqueueException if the available ring or the chain is malformed
     */
    public boolean pop(DescriptorChain chain) throws VirtqueueException {
        int avail = availIdx();
        if (avail == nextAvail) {
            if (!eventIdx) return false;
            memory.putShort(usedAddr + 4 + 8L * size, (short) nextAvail);
            VarHandle.fullFence();
            avail = availIdx();
            if (avail == nextAvail) return false;
        }
        int pending = (avail - nextAvail) & 0xFFFF;
        if (pending > size) {
            throw new VirtqueueException(index, "available index " + avail + " is " + pending
                    + " ahead of the next expected " + nextAvail + ", more than queue size " + size);
        }
        VarHandle.acquireFence();
        int head = Short.toUnsignedInt(memory.getShort(availAddr + 4 + 2L * (nextAvail & (size - 1))));
        nextAvail = (nextAvail + 1) & 0xFFFF;
        if (head >= size) {
            throw new VirtqueueException(index, "available head " + head + " exceeds queue size " + size);
        }
        walk(head, chain);
        return true;
    }

    private void walk(int head, DescriptorChain chain) throws VirtqueueException {
        if (chain.capacity() < size) throw new IllegalArgumentException("chain is from a smaller queue");
        chain.reset(head);
        MemorySegment table = descTable;
        int tableSize = size;
        boolean inIndirect = false;
        int i = head;
        while (true) {
            desc.wrap(table, i);
            long addr = desc.addr();
            long len = desc.len();
            int flags = desc.flags();
            int next = desc.next();
            String where = inIndirect ? "indirect descriptor " + i : "descriptor " + i;

            if ((flags & Descriptor.F_INDIRECT) != 0) {
                if (!indirect) throw new VirtqueueException(index, where + " is INDIRECT but INDIRECT_DESC was not negotiated");
                if (inIndirect) throw new VirtqueueException(index, where + " is INDIRECT inside an indirect table");
                if ((flags & Descriptor.F_NEXT) != 0) throw new VirtqueueException(index, where + " has both INDIRECT and NEXT");
                if (len == 0 || len % Descriptor.SIZE != 0) {
                    throw new VirtqueueException(index, where + " indirect table length " + len
                            + " is not a non-zero multiple of 16");
                }
                if (len / Descriptor.SIZE > size) {
                    throw new VirtqueueException(index, where + " indirect table of " + len / Descriptor.SIZE
                            + " descriptors exceeds queue size " + size);
                }
                if (!memory.contains(addr, len)) {
                    throw new VirtqueueException(index, where + " indirect table [0x" + Long.toHexString(addr)
                            + ", +0x" + Long.toHexString(len) + ") is outside guest RAM");
                }
                table = memory.slice(addr, len);
                tableSize = (int) (len / Descriptor.SIZE);
                inIndirect = true;
                i = 0;
                continue;
            }
            if (chain.count() >= size) {
                throw new VirtqueueException(index, "chain from head " + head + " is longer than queue size "
                        + size + " (a descriptor loop?)");
            }
            if (!memory.contains(addr, len)) {
                throw new VirtqueueException(index, where + " buffer [0x" + Long.toHexString(addr) + ", +0x"
                        + Long.toHexString(len) + ") is outside guest RAM");
            }
            boolean writable = (flags & Descriptor.F_WRITE) != 0;
            if (!writable && chain.readableCount() < chain.count()) {
                throw new VirtqueueException(index, where + " is device-readable after a device-writable one");
            }
            chain.add(addr, len, writable);
            if ((flags & Descriptor.F_NEXT) == 0) return;
            if (next >= tableSize) {
                throw new VirtqueueException(index, where + " next=" + next + " exceeds "
                        + (inIndirect ? "indirect table size " : "queue size ") + tableSize);
            }
            i = next;
        }
    }

    /**
     * Returns a chain to the driver: writes the used element, then publishes the used index.
     *
     * @param head    the chain's head index ({@link DescriptorChain#head()})
     * @param written bytes the device wrote into the chain's writable buffers
     */
    public void addUsed(int head, long written) {
        if (head < 0 || head >= size) throw new IllegalArgumentException("head " + head + " outside queue size " + size);
        long element = usedAddr + 4 + 8L * (nextUsed & (size - 1));
        MemorySegment e = memory.sliceForWrite(element, 8);
        e.set(ValueLayout.JAVA_INT_UNALIGNED, 0, head);
        e.set(ValueLayout.JAVA_INT_UNALIGNED, 4, (int) written);
        VarHandle.releaseFence(); // the driver must see the element before the index that covers it
        nextUsed = (nextUsed + 1) & 0xFFFF;
        memory.putShort(usedAddr + 2, (short) nextUsed);
    }

    /**
     * Whether the driver wants an interrupt for the chains used since the last call: with
     * EVENT_IDX, whether used_event lies in that range (the spec's vring_need_event); else
     * whether the available ring's NO_INTERRUPT flag is clear. Call after a batch of
     * {@link #addUsed}; the answer is consumed (a second call with nothing new returns false).
     */
    public boolean needsInterrupt() {
        int old = signalledUsed;
        int now = nextUsed;
        if (old == now) return false;
        signalledUsed = now;
        VarHandle.fullFence(); // our used.idx store before our read of the driver's hint
        try {
            if (eventIdx) {
                int event = Short.toUnsignedInt(memory.getShort(availAddr + 4 + 2L * size));
                return ((now - event - 1) & 0xFFFF) < ((now - old) & 0xFFFF);
            }
            return (memory.getShort(availAddr) & AVAIL_F_NO_INTERRUPT) == 0;
        } catch (GuestMemoryException impossible) {
            return true; // the rings were checked at creation; interrupt rather than lose one
        }
    }

    /** Whether the driver has made chains available that we have not popped (no side effects). */
    public boolean hasAvailable() {
        return availIdx() != nextAvail;
    }

    public int nextAvail() {
        return nextAvail;
    }

    public int nextUsed() {
        return nextUsed;
    }

    /** The state to checkpoint; call only while the owning thread is quiesced. */
    public QueueState save() {
        return new QueueState(size, true, descAddr, availAddr, usedAddr, nextAvail, nextUsed, eventIdx);
    }

    private int availIdx() {
        return Short.toUnsignedInt(memory.getShort(availAddr + 2));
    }

    @Override
    public String toString() {
        return "Virtqueue[" + index + ", size " + size + ", avail " + nextAvail + ", used " + nextUsed + "]";
    }
}
