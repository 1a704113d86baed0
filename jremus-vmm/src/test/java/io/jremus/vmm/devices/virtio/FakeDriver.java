package io.jremus.vmm.devices.virtio;

import io.jremus.vmm.memory.GuestMemory;
import java.lang.foreign.Arena;

/**
 * Test-side stand-in for a guest driver: owns heap-backed guest RAM, lays out split rings in it
 * and drives a transport only through its MMIO registers, as a guest would. Its own stores into
 * RAM use {@link #raw} views so they do not mark pages dirty (vCPU stores are KVM's business).
 * Public so that device tests in sub-packages (blk, net) can drive their devices with it.
 */
public final class FakeDriver {
    public static final long RAM = 1 << 20;
    /** Descriptor flags, for tests outside this package (Descriptor is package-private). */
    public static final int F_NEXT = Descriptor.F_NEXT, F_WRITE = Descriptor.F_WRITE, F_INDIRECT = Descriptor.F_INDIRECT;

    public final GuestMemory memory = GuestMemory.of(Arena.ofAuto().allocate(RAM, 4096));
    VirtioMmioTransport transport;

    public void attach(VirtioMmioTransport t) {
        transport = t;
    }

    public int reg(int offset) {
        return (int) transport.read(offset, 4);
    }

    public void reg(int offset, long value) {
        transport.write(offset, 4, value);
    }

    public int status() {
        return reg(VirtioMmioTransport.STATUS);
    }

    public long deviceFeatures() {
        reg(VirtioMmioTransport.DEVICE_FEATURES_SEL, 0);
        long lo = Integer.toUnsignedLong(reg(VirtioMmioTransport.DEVICE_FEATURES));
        reg(VirtioMmioTransport.DEVICE_FEATURES_SEL, 1);
        long hi = Integer.toUnsignedLong(reg(VirtioMmioTransport.DEVICE_FEATURES));
        return lo | hi << 32;
    }

    /** ACKNOWLEDGE, DRIVER, features, FEATURES_OK; returns the status read back. */
    public int negotiate(long features) {
        reg(VirtioMmioTransport.STATUS, DeviceStatus.ACKNOWLEDGE);
        reg(VirtioMmioTransport.STATUS, DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER);
        reg(VirtioMmioTransport.DRIVER_FEATURES_SEL, 0);
        reg(VirtioMmioTransport.DRIVER_FEATURES, features & 0xFFFF_FFFFL);
        reg(VirtioMmioTransport.DRIVER_FEATURES_SEL, 1);
        reg(VirtioMmioTransport.DRIVER_FEATURES, features >>> 32);
        reg(VirtioMmioTransport.STATUS, DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK);
        return status();
    }

    public void setupQueue(int q, Ring ring) {
        reg(VirtioMmioTransport.QUEUE_SEL, q);
        reg(VirtioMmioTransport.QUEUE_NUM, ring.size);
        reg(VirtioMmioTransport.QUEUE_DESC_LOW, ring.desc);
        reg(VirtioMmioTransport.QUEUE_DESC_HIGH, ring.desc >>> 32);
        reg(VirtioMmioTransport.QUEUE_DRIVER_LOW, ring.avail);
        reg(VirtioMmioTransport.QUEUE_DRIVER_HIGH, ring.avail >>> 32);
        reg(VirtioMmioTransport.QUEUE_DEVICE_LOW, ring.used);
        reg(VirtioMmioTransport.QUEUE_DEVICE_HIGH, ring.used >>> 32);
        reg(VirtioMmioTransport.QUEUE_READY, 1);
    }

    public void driverOk() {
        reg(VirtioMmioTransport.STATUS, status() | DeviceStatus.DRIVER_OK);
    }

    public void notify(int q) {
        reg(VirtioMmioTransport.QUEUE_NOTIFY, q);
    }

    public int interruptStatus() {
        return reg(VirtioMmioTransport.INTERRUPT_STATUS);
    }

    public void ack(int bits) {
        reg(VirtioMmioTransport.INTERRUPT_ACK, bits);
    }

    /** A store by the "guest": not through the dirty-tracking accessors. */
    public java.lang.foreign.MemorySegment raw(long gpa, long len) {
        return memory.slice(gpa, len);
    }

    public Ring ring(int size, long base) {
        return new Ring(size, base, base + 16L * size, base + 0x2000 + 16L * size);
    }

    /** A split ring at fixed addresses, written the way a driver writes it. */
    public final class Ring {
        public final int size;
        public final long desc;
        public final long avail;
        public final long used;
        public int availIdx;

        Ring(int size, long desc, long avail, long used) {
            this.size = size;
            this.desc = desc;
            this.avail = avail;
            this.used = used;
        }

        public void desc(int i, long addr, long len, int flags, int next) {
            descAt(desc, i, addr, len, flags, next);
        }

        public void descAt(long table, int i, long addr, long len, int flags, int next) {
            var d = raw(table + 16L * i, 16);
            d.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 0, addr);
            d.set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, 8, (int) len);
            d.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 12, (short) flags);
            d.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 14, (short) next);
        }

        public void makeAvailable(int head) {
            raw(avail + 4 + 2L * (availIdx % size), 2).set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 0, (short) head);
            availIdx++;
            setAvailIdx(availIdx);
        }

        public void setAvailIdx(int idx) {
            raw(avail + 2, 2).set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 0, (short) idx);
        }

        public void setUsedEvent(int idx) {
            raw(avail + 4 + 2L * size, 2).set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 0, (short) idx);
        }

        public int usedIdx() {
            return Short.toUnsignedInt(memory.getShort(used + 2));
        }

        public int availEvent() {
            return Short.toUnsignedInt(memory.getShort(used + 4 + 8L * size));
        }

        public int usedId(int slot) {
            return memory.getInt(used + 4 + 8L * slot);
        }

        public int usedLen(int slot) {
            return memory.getInt(used + 4 + 8L * slot + 4);
        }
    }

    public boolean dirty(long gpa) {
        return memory.regions().getFirst().dirty().isDirty(gpa >>> GuestMemory.PAGE_SHIFT);
    }

    public void clearDirty() {
        memory.regions().getFirst().dirty().clear();
    }
}
