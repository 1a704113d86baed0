package io.jremus.vmm.devices.virtio;

import static io.jremus.vmm.devices.virtio.VirtioMmioTransport.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.jremus.vmm.devices.RecordingLine;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class VirtioMmioTransportTest {
    static final long FEATURES = VirtioFeatures.VERSION_1 | (1L << 5);
    static final int W = Descriptor.F_WRITE, N = Descriptor.F_NEXT, I = Descriptor.F_INDIRECT;

    final FakeDriver driver = new FakeDriver();
    final RecordingLine irq = new RecordingLine();
    final EchoDevice device = new EchoDevice(1, 256);
    VirtioMmioTransport transport;
    FakeDriver.Ring ring;

    @BeforeEach
    void setUp() {
        transport = new VirtioMmioTransport(device, driver.memory, irq, "virtio-echo@test");
        driver.attach(transport);
        ring = driver.ring(256, 0x10000);
    }

    private void bringUp(long features) {
        assertThat(driver.negotiate(features) & DeviceStatus.FEATURES_OK).isNotZero();
        driver.setupQueue(0, ring);
        driver.driverOk();
    }

    private void putRequest(String text, long inAddr, long outAddr, int outLen) {
        byte[] b = text.getBytes(StandardCharsets.US_ASCII);
        driver.raw(inAddr, b.length).copyFrom(java.lang.foreign.MemorySegment.ofArray(b));
        ring.desc(0, inAddr, b.length, N, 1);
        ring.desc(1, outAddr, outLen, W, 0);
        ring.makeAvailable(0);
    }

    private void assertBroken() {
        assertThat(transport.isBroken()).isTrue();
        assertThat(driver.status() & DeviceStatus.DEVICE_NEEDS_RESET).isNotZero();
        assertThat(driver.interruptStatus() & INT_CONFIG_CHANGE).isNotZero();
        assertThat(irq.level()).isTrue();
    }

    @Test
    void shouldPresentMagicVersionAndIds() {
        assertThat(driver.reg(MAGIC_VALUE)).isEqualTo(0x74726976);
        assertThat(driver.reg(VERSION_REG)).isEqualTo(2);
        assertThat(driver.reg(DEVICE_ID)).isEqualTo(EchoDevice.TYPE);
        assertThat(driver.deviceFeatures()).isEqualTo(VirtioFeatures.TRANSPORT_OFFERED | (1L << 5));
        driver.reg(QUEUE_SEL, 0);
        assertThat(driver.reg(QUEUE_NUM_MAX)).isEqualTo(256);
        driver.reg(QUEUE_SEL, 3);
        assertThat(driver.reg(QUEUE_NUM_MAX)).isZero();
    }

    @Test
    void shouldAcceptOfferedFeaturesAndRefuseUnofferedOnes() {
        assertThat(driver.negotiate(FEATURES) & DeviceStatus.FEATURES_OK).isNotZero();

        driver.reg(STATUS, 0);
        assertThat(driver.negotiate(FEATURES | (1L << 7)) & DeviceStatus.FEATURES_OK).isZero();
    }

    @Test
    void shouldRefuseFeaturesOkWithoutVersion1() {
        assertThat(driver.negotiate(1L << 5) & DeviceStatus.FEATURES_OK).isZero();
    }

    @Test
    void shouldEchoThroughTheUsedRingAndRaiseTheInterrupt() {
        bringUp(FEATURES);
        assertThat(device.context).isNotNull();
        putRequest("hello", 0x40000, 0x50000, 64);

        driver.notify(0);

        assertThat(ring.usedIdx()).isEqualTo(1);
        assertThat(ring.usedId(0)).isZero();
        assertThat(ring.usedLen(0)).isEqualTo(5);
        assertThat(new String(driver.memory.read(0x50000, 5), StandardCharsets.US_ASCII)).isEqualTo("hello");
        assertThat(driver.interruptStatus()).isEqualTo(INT_USED_BUFFER);
        assertThat(irq.level()).isTrue();

        driver.ack(INT_USED_BUFFER);
        assertThat(irq.level()).isFalse();
        assertThat(driver.interruptStatus()).isZero();
    }

    @Test
    void shouldMarkUsedRingPagesDirty() {
        bringUp(FEATURES);
        putRequest("dirty", 0x40000, 0x50000, 64);
        driver.clearDirty();

        driver.notify(0);

        assertThat(driver.dirty(ring.used)).as("used ring page").isTrue();
        assertThat(driver.dirty(0x50000)).as("device-written buffer page").isTrue();
        assertThat(driver.dirty(0x40000)).as("device-read buffer page").isFalse();
        assertThat(driver.dirty(ring.desc)).as("descriptor table is only read").isFalse();
    }

    @Test
    void shouldFollowIndirectDescriptorTables() {
        bringUp(FEATURES | VirtioFeatures.RING_INDIRECT_DESC);
        driver.raw(0x40000, 3).copyFrom(java.lang.foreign.MemorySegment.ofArray("abc".getBytes()));
        long table = 0x30000;
        ring.descAt(table, 0, 0x40000, 3, N, 1);
        ring.descAt(table, 1, 0x50000, 16, W, 0);
        ring.desc(5, table, 32, I, 0);
        ring.makeAvailable(5);

        driver.notify(0);

        assertThat(transport.isBroken()).isFalse();
        assertThat(ring.usedId(0)).isEqualTo(5);
        assertThat(ring.usedLen(0)).isEqualTo(3);
        assertThat(driver.memory.read(0x50000, 3)).isEqualTo("abc".getBytes());
    }

    @Test
    void shouldResetOnStatusZero() {
        bringUp(FEATURES);
        putRequest("x", 0x40000, 0x50000, 8);
        driver.notify(0);
        assertThat(irq.level()).isTrue();

        driver.reg(STATUS, 0);

        assertThat(device.resets.get()).isEqualTo(1);
        assertThat(driver.status()).isZero();
        assertThat(driver.interruptStatus()).isZero();
        assertThat(irq.level()).isFalse();
        driver.reg(QUEUE_SEL, 0);
        assertThat(driver.reg(QUEUE_READY)).isZero();
        driver.notify(0);
        assertThat(device.notifies.get()).as("no notify reaches a reset device").isEqualTo(1);
    }

    @Test
    void shouldIgnoreQueueSetupOutsideTheSetupWindowAndStatusBitClearing() {
        driver.reg(QUEUE_SEL, 0);
        driver.reg(QUEUE_READY, 1); // before FEATURES_OK: ignored
        assertThat(driver.reg(QUEUE_READY)).isZero();

        bringUp(FEATURES);
        driver.reg(QUEUE_NUM, 16); // after DRIVER_OK: ignored
        driver.reg(STATUS, DeviceStatus.ACKNOWLEDGE); // clearing bits: ignored
        assertThat(driver.status()).isEqualTo(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER
                | DeviceStatus.FEATURES_OK | DeviceStatus.DRIVER_OK);
        assertThat(transport.save().queues().getFirst().size()).isEqualTo(256);
        transport.write(STATUS, 1, 0); // wrong access size: ignored, no reset
        assertThat(driver.status()).isNotZero();
    }

    @Test
    void shouldServeConfigSpaceAndBumpGenerationOnChange() {
        assertThat(transport.read(CONFIG + 2, 2)).isEqualTo(0x0403);
        bringUp(FEATURES);
        transport.write(CONFIG, 1, 0x77);
        assertThat(transport.read(CONFIG, 4)).isEqualTo(0x04030277L);
        assertThat(transport.read(CONFIG + 6, 4)).as("past the end").isZero();

        int gen = driver.reg(CONFIG_GENERATION);
        device.context.signals().configChanged();
        assertThat(driver.reg(CONFIG_GENERATION)).isEqualTo(gen + 1);
        assertThat(driver.interruptStatus()).isEqualTo(INT_CONFIG_CHANGE);
    }

    @Test
    void shouldRaiseTheLineWhenAWorkerThreadSignals() throws Exception {
        bringUp(FEATURES);
        putRequest("w", 0x40000, 0x50000, 8);
        Virtqueue q = device.context.queue(0);

        CompletableFuture.runAsync(() -> {
            DescriptorChain c = q.newChain();
            try {
                while (q.pop(c)) q.addUsed(c.head(), 0);
            } catch (VirtqueueException e) {
                device.context.signals().deviceBroken(e);
            }
            device.context.signals().usedBuffers(q);
        }).get();

        assertThat(irq.level()).isTrue();
        assertThat(ring.usedIdx()).isEqualTo(1);
    }

    @Test
    void shouldSuppressInterruptsAsUsedEventAsks() {
        bringUp(FEATURES | VirtioFeatures.RING_EVENT_IDX);
        ring.setUsedEvent(1); // interrupt only once used idx passes 1, i.e. after the 2nd buffer
        putRequest("a", 0x40000, 0x50000, 8);
        driver.notify(0);
        assertThat(ring.usedIdx()).isEqualTo(1);
        assertThat(irq.level()).isFalse();
        assertThat(ring.availEvent()).as("device asks to be notified of the next buffer").isEqualTo(1);

        ring.makeAvailable(0);
        driver.notify(0);
        assertThat(ring.usedIdx()).isEqualTo(2);
        assertThat(irq.level()).isTrue();
    }

    @Test
    void shouldHonourNoInterruptFlagWithoutEventIdx() {
        bringUp(FEATURES);
        driver.raw(ring.avail, 2).set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 0, (short) 1);
        putRequest("a", 0x40000, 0x50000, 8);
        driver.notify(0);
        assertThat(ring.usedIdx()).isEqualTo(1);
        assertThat(irq.level()).isFalse();
    }

    // --- hostile guests ---------------------------------------------------------------

    @Test
    void shouldMarkDeviceBrokenOnDescriptorLoop() {
        bringUp(FEATURES);
        ring.desc(0, 0x40000, 8, N, 1);
        ring.desc(1, 0x40000, 8, N, 0);
        ring.makeAvailable(0);

        driver.notify(0);

        assertBroken();
        assertThat(ring.usedIdx()).isZero();
    }

    @Test
    void shouldMarkDeviceBrokenWhenNextIndexExceedsQueueSize() throws Exception {
        bringUp(FEATURES);
        ring.desc(7, 0x40000, 8, N, 300);
        ring.makeAvailable(7);

        Virtqueue q = device.context.queue(0);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> q.pop(q.newChain()))
                .isInstanceOf(VirtqueueException.class)
                .hasMessage("queue 0: descriptor 7 next=300 exceeds queue size 256");
    }

    @Test
    void shouldMarkDeviceBrokenOnBufferOutsideRam() {
        bringUp(FEATURES);
        ring.desc(0, FakeDriver.RAM - 4, 8, 0, 0);
        ring.makeAvailable(0);
        driver.notify(0);
        assertBroken();
    }

    @Test
    void shouldMarkDeviceBrokenOnHugeLength() {
        bringUp(FEATURES);
        ring.desc(0, 0x40000, 0xFFFF_FFFFL, W, 0);
        ring.makeAvailable(0);
        driver.notify(0);
        assertBroken();
    }

    @Test
    void shouldMarkDeviceBrokenOnAddressThatWrapsAround() {
        bringUp(FEATURES);
        ring.desc(0, -16L, 32, 0, 0);
        ring.makeAvailable(0);
        driver.notify(0);
        assertBroken();
    }

    @Test
    void shouldMarkDeviceBrokenOnHeadOutOfRange() {
        bringUp(FEATURES);
        ring.makeAvailable(999);
        driver.notify(0);
        assertBroken();
    }

    @Test
    void shouldMarkDeviceBrokenWhenAvailableIndexRunsAheadOfTheRing() {
        bringUp(FEATURES);
        ring.setAvailIdx(300);
        driver.notify(0);
        assertBroken();
    }

    @Test
    void shouldMarkDeviceBrokenOnReadableAfterWritable() {
        bringUp(FEATURES);
        ring.desc(0, 0x50000, 8, W | N, 1);
        ring.desc(1, 0x40000, 8, 0, 0);
        ring.makeAvailable(0);
        driver.notify(0);
        assertBroken();
    }

    @Test
    void shouldMarkDeviceBrokenOnNestedIndirectTable() {
        bringUp(FEATURES | VirtioFeatures.RING_INDIRECT_DESC);
        ring.descAt(0x30000, 0, 0x31000, 16, I, 0);
        ring.desc(0, 0x30000, 16, I, 0);
        ring.makeAvailable(0);
        driver.notify(0);
        assertBroken();
    }

    @Test
    void shouldMarkDeviceBrokenOnIndirectWhenNotNegotiated() {
        bringUp(FEATURES);
        ring.descAt(0x30000, 0, 0x40000, 16, 0, 0);
        ring.desc(0, 0x30000, 16, I, 0);
        ring.makeAvailable(0);
        driver.notify(0);
        assertBroken();
    }

    @Test
    void shouldMarkDeviceBrokenOnIndirectTableOfBadLength() {
        bringUp(FEATURES | VirtioFeatures.RING_INDIRECT_DESC);
        ring.desc(0, 0x30000, 20, I, 0);
        ring.makeAvailable(0);
        driver.notify(0);
        assertBroken();
    }

    @Test
    void shouldMarkDeviceBrokenOnLoopInsideIndirectTable() {
        bringUp(FEATURES | VirtioFeatures.RING_INDIRECT_DESC);
        ring.descAt(0x30000, 0, 0x40000, 8, N, 1);
        ring.descAt(0x30000, 1, 0x40000, 8, N, 0);
        ring.desc(0, 0x30000, 32, I, 0);
        ring.makeAvailable(0);
        driver.notify(0);
        assertBroken();
    }

    @Test
    void shouldMarkDeviceBrokenAtDriverOkOnBadQueueSize() {
        driver.negotiate(FEATURES);
        driver.setupQueue(0, driver.new Ring(100, 0x10000, 0x11000, 0x12000));
        driver.driverOk();
        assertBroken();
        assertThat(device.context).as("never activated").isNull();
    }

    @Test
    void shouldMarkDeviceBrokenAtDriverOkOnMisalignedOrOutOfRamRings() {
        driver.negotiate(FEATURES);
        driver.setupQueue(0, driver.new Ring(256, 0x10008, 0x11000, 0x12000));
        driver.driverOk();
        assertBroken();

        driver.reg(STATUS, 0);
        driver.negotiate(FEATURES);
        driver.setupQueue(0, driver.new Ring(256, 0x10000, 0x11000, FakeDriver.RAM - 0x100));
        driver.driverOk();
        assertBroken();
    }

    @Test
    void shouldStopProcessingWhenBrokenAndRecoverAfterReset() {
        bringUp(FEATURES);
        ring.makeAvailable(999);
        driver.notify(0);
        assertBroken();
        int before = device.notifies.get();
        driver.notify(0);
        assertThat(device.notifies.get()).isEqualTo(before);

        driver.reg(STATUS, 0);
        assertThat(transport.isBroken()).isFalse();
        assertThat(irq.level()).isFalse();
        ring = driver.ring(256, 0x20000);
        bringUp(FEATURES);
        putRequest("ok", 0x40000, 0x50000, 8);
        driver.notify(0);
        assertThat(ring.usedIdx()).isEqualTo(1);
    }
}
