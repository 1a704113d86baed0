package io.jremus.vmm.devices.virtio.net;

import static io.jremus.vmm.devices.virtio.FakeDriver.F_NEXT;
import static io.jremus.vmm.devices.virtio.FakeDriver.F_WRITE;
import static org.assertj.core.api.Assertions.assertThat;

import io.jremus.vmm.devices.RecordingLine;
import io.jremus.vmm.devices.virtio.DeviceStatus;
import io.jremus.vmm.devices.virtio.FakeDriver;
import io.jremus.vmm.devices.virtio.VirtioFeatures;
import io.jremus.vmm.devices.virtio.VirtioMmioTransport;
import java.lang.foreign.MemorySegment;
import java.util.function.BooleanSupplier;

/**
 * A guest's virtio-net driver as far as the tests need one, on top of {@link FakeDriver}: an RX
 * ring whose buffers it posts, a TX ring it sends frames on, and a way to wait for received frames.
 * RX buffers live at 0x40000 + 0x1000*i (at most 4 KiB each), TX buffers at 0x80000.
 */
final class NetDriver {
    static final long RX_BUFFERS = 0x40000, TX_BUFFER = 0x80000;

    final FakeDriver driver = new FakeDriver();
    final RecordingLine irq = new RecordingLine();
    final FakeDriver.Ring rx = driver.ring(256, 0x10000);
    final FakeDriver.Ring tx = driver.ring(256, 0x20000);
    VirtioMmioTransport transport;
    private int nextRxSlot;
    private int rxBuffersPosted;
    private int txHead;

    /** Brings the device up with VERSION_1 plus {@code features}. */
    void bringUp(VirtioNetDevice device, long features) {
        transport = new VirtioMmioTransport(device, driver.memory, irq, "virtio-net@test");
        driver.attach(transport);
        assertThat(driver.negotiate(VirtioFeatures.VERSION_1 | features) & DeviceStatus.FEATURES_OK).isNotZero();
        driver.setupQueue(0, rx);
        driver.setupQueue(1, tx);
        driver.driverOk();
    }

    /** Posts {@code count} receive buffers of {@code size} bytes (one writable descriptor each) and notifies. */
    void postRx(int count, int size) {
        for (int i = 0; i < count; i++) {
            int d = rxBuffersPosted++ % 64;
            rx.desc(d, RX_BUFFERS + 0x1000L * d, size, F_WRITE, 0);
            rx.makeAvailable(d);
        }
        driver.notify(0);
    }

    /** A received buffer: header and frame as the device wrote them, and the used length. */
    record Received(byte[] header, byte[] frame, int usedLen) {
        int numBuffers() {
            return (header[10] & 0xFF) | (header[11] & 0xFF) << 8;
        }
    }

    /** Waits for the next used RX buffer. */
    Received nextRx() {
        int slot = nextRxSlot;
        await(() -> Integer.compareUnsigned(rx.usedIdx(), slot) > 0, "an RX buffer to be used");
        nextRxSlot++;
        int head = rx.usedId(slot % rx.size);
        int len = rx.usedLen(slot % rx.size);
        long addr = RX_BUFFERS + 0x1000L * head;
        byte[] hdr = driver.memory.read(addr, Math.min(len, 12));
        byte[] frame = len > 12 ? driver.memory.read(addr + 12, len - 12) : new byte[0];
        return new Received(hdr, frame, len);
    }

    int rxUsed() {
        return rx.usedIdx();
    }

    /** Sends header + frame as two readable descriptors on the TX queue and notifies. */
    void transmit(byte[] header, byte[] frame) {
        int d = (txHead += 2) % 256;
        driver.raw(TX_BUFFER, header.length).copyFrom(MemorySegment.ofArray(header));
        driver.raw(TX_BUFFER + 0x100, frame.length).copyFrom(MemorySegment.ofArray(frame));
        tx.desc(d, TX_BUFFER, header.length, F_NEXT, d + 1);
        tx.desc(d + 1, TX_BUFFER + 0x100, frame.length, 0, 0);
        tx.makeAvailable(d);
        driver.notify(1);
    }

    void transmit(byte[] frame) {
        transmit(new byte[12], frame);
    }

    static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what);
            }
        }
    }
}
