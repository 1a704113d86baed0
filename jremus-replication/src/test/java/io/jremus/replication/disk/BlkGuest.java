package io.jremus.replication.disk;

import io.jremus.vmm.devices.InterruptLine;
import io.jremus.vmm.devices.virtio.DeviceStatus;
import io.jremus.vmm.devices.virtio.VirtioMmioTransport;
import io.jremus.vmm.devices.virtio.blk.BlockWriteListener;
import io.jremus.vmm.devices.virtio.blk.RawImageFile;
import io.jremus.vmm.devices.virtio.blk.VirtioBlk;
import io.jremus.vmm.devices.virtio.blk.VirtioBlkDevice;
import io.jremus.vmm.memory.GuestMemory;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

/**
 * Just enough of a guest to drive a real {@link VirtioBlkDevice} through its virtio-mmio
 * registers (offsets from the virtio 1.x spec, §4.2.2): one split ring, requests of header |
 * data | status. jremus-vmm's FakeDriver does more, but lives in that module's test sources.
 */
final class BlkGuest implements AutoCloseable {
    private static final int STATUS_REG = 0x070, DRIVER_FEATURES = 0x020, DRIVER_FEATURES_SEL = 0x024,
            QUEUE_SEL = 0x030, QUEUE_NUM = 0x038, QUEUE_READY = 0x044, QUEUE_NOTIFY = 0x050,
            QUEUE_DESC_LOW = 0x080, QUEUE_DRIVER_LOW = 0x090, QUEUE_DEVICE_LOW = 0x0A0;
    private static final long VERSION_1 = 1L << 32;
    private static final int SIZE = 16;
    private static final long DESC = 0x1000, AVAIL = 0x2000, USED = 0x3000, HDR = 0x4000, STATUS = 0x5000, DATA = 0x10000;
    private static final int F_NEXT = 1, F_WRITE = 2;

    final GuestMemory memory = GuestMemory.of(Arena.ofAuto().allocate(1 << 20, 4096));
    final VirtioBlkDevice device;
    private final VirtioMmioTransport transport;
    private int availIdx;

    BlkGuest(Path image, BlockWriteListener listener) throws IOException {
        device = new VirtioBlkDevice(RawImageFile.open(image, false), null);
        device.setWriteListener(listener);
        transport = new VirtioMmioTransport(device, memory, InterruptLine.NONE, "virtio-blk@test");
        reg(STATUS_REG, DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER);
        long features = VERSION_1 | VirtioBlk.F_FLUSH;
        reg(DRIVER_FEATURES_SEL, 0);
        reg(DRIVER_FEATURES, features & 0xFFFF_FFFFL);
        reg(DRIVER_FEATURES_SEL, 1);
        reg(DRIVER_FEATURES, features >>> 32);
        reg(STATUS_REG, DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK);
        reg(QUEUE_SEL, 0);
        reg(QUEUE_NUM, SIZE);
        reg(QUEUE_DESC_LOW, DESC);
        reg(QUEUE_DRIVER_LOW, AVAIL);
        reg(QUEUE_DEVICE_LOW, USED);
        reg(QUEUE_READY, 1);
        reg(STATUS_REG, DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK | DeviceStatus.DRIVER_OK);
    }

    private void reg(int offset, long value) {
        transport.write(offset, 4, value);
    }

    /** Writes {@code data} (a multiple of 512 bytes, at most 960 KiB) at {@code sector}; returns the status byte. */
    int write(long sector, byte[] data) {
        memory.slice(DATA, data.length).copyFrom(MemorySegment.ofArray(data));
        return request(VirtioBlk.T_OUT, sector, data.length);
    }

    int flush() {
        return request(VirtioBlk.T_FLUSH, 0, 0);
    }

    private int request(int type, long sector, int dataLen) {
        MemorySegment h = memory.slice(HDR, 16);
        h.set(ValueLayout.JAVA_INT_UNALIGNED, 0, type);
        h.set(ValueLayout.JAVA_INT_UNALIGNED, 4, 0);
        h.set(ValueLayout.JAVA_LONG_UNALIGNED, 8, sector);
        memory.slice(STATUS, 1).set(ValueLayout.JAVA_BYTE, 0, (byte) 0x7F);
        if (dataLen > 0) {
            desc(0, HDR, 16, F_NEXT, 1);
            desc(1, DATA, dataLen, F_NEXT, 2);
        } else {
            desc(0, HDR, 16, F_NEXT, 2);
        }
        desc(2, STATUS, 1, F_WRITE, 0);
        MemorySegment avail = memory.slice(AVAIL, 4 + 2 * SIZE);
        avail.set(ValueLayout.JAVA_SHORT_UNALIGNED, 4 + 2L * (availIdx % SIZE), (short) 0);
        availIdx++;
        avail.set(ValueLayout.JAVA_SHORT_UNALIGNED, 2, (short) availIdx);
        reg(QUEUE_NOTIFY, 0);
        return memory.getByte(STATUS);
    }

    private void desc(int i, long addr, int len, int flags, int next) {
        MemorySegment d = memory.slice(DESC + 16L * i, 16);
        d.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, addr);
        d.set(ValueLayout.JAVA_INT_UNALIGNED, 8, len);
        d.set(ValueLayout.JAVA_SHORT_UNALIGNED, 12, (short) flags);
        d.set(ValueLayout.JAVA_SHORT_UNALIGNED, 14, (short) next);
    }

    @Override
    public void close() {
        device.close();
    }
}
