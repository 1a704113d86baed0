package io.jremus.vmm.devices.virtio;

import static io.jremus.vmm.devices.virtio.VirtioMmioTransport.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jremus.vmm.devices.DeviceStateException;
import io.jremus.vmm.devices.RecordingLine;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class VirtioMmioStateTest {
    static final long FEATURES = VirtioFeatures.VERSION_1 | VirtioFeatures.RING_EVENT_IDX;
    static final int W = Descriptor.F_WRITE;

    final FakeDriver driver = new FakeDriver();
    final FakeDriver.Ring rx = driver.ring(256, 0x10000);
    final FakeDriver.Ring tx = driver.ring(256, 0x20000);

    private VirtioMmioTransport runningTransport(EchoDevice device, RecordingLine irq) {
        VirtioMmioTransport t = new VirtioMmioTransport(device, driver.memory, irq, "echo");
        driver.attach(t);
        driver.negotiate(FEATURES);
        driver.setupQueue(0, rx);
        driver.setupQueue(1, tx);
        driver.driverOk();
        return t;
    }

    private void request(FakeDriver.Ring ring, int head) {
        ring.desc(head, 0x50000 + 0x100L * head, 16, W, 0);
        ring.makeAvailable(head);
    }

    @Test
    void shouldRoundTripStateAndContinueWhereTheQueueLeftOff() throws DeviceStateException {
        EchoDevice device = new EchoDevice(2, 256);
        VirtioMmioTransport t = runningTransport(device, new RecordingLine());
        request(rx, 0);
        request(rx, 1);
        driver.notify(0);
        VirtioMmioState saved = t.save();
        assertThat(saved.queues().get(0).nextAvail()).isEqualTo(2);
        assertThat(saved.queues().get(0).nextUsed()).isEqualTo(2);
        assertThat(saved.interruptStatus()).isEqualTo(INT_USED_BUFFER);

        EchoDevice device2 = new EchoDevice(2, 256);
        RecordingLine irq2 = new RecordingLine();
        VirtioMmioTransport t2 = new VirtioMmioTransport(device2, driver.memory, irq2, "echo-restored");
        t2.restore(saved);
        driver.attach(t2);

        assertThat(t2.save()).isEqualTo(saved);
        assertThat(device2.context).as("re-activated with live queues").isNotNull();
        assertThat(irq2.level()).as("pending interrupt is re-asserted").isTrue();
        request(rx, 2);
        driver.notify(0);
        assertThat(rx.usedIdx()).isEqualTo(3);
        assertThat(rx.usedId(2)).isEqualTo(2);
    }

    @Test
    void shouldRoundTripAStateInTheMiddleOfSetup() throws DeviceStateException {
        EchoDevice device = new EchoDevice(2, 256);
        VirtioMmioTransport t = new VirtioMmioTransport(device, driver.memory, new RecordingLine(), "echo");
        driver.attach(t);
        driver.negotiate(FEATURES);
        driver.setupQueue(0, rx);
        VirtioMmioState saved = t.save();

        VirtioMmioTransport t2 = new VirtioMmioTransport(new EchoDevice(2, 256), driver.memory, new RecordingLine(), "b");
        t2.restore(saved);
        assertThat(t2.save()).isEqualTo(saved);
        driver.attach(t2);
        driver.setupQueue(1, tx);
        driver.driverOk();
        assertThat(t2.isBroken()).isFalse();
    }

    private static VirtioMmioState withQueue(VirtioMmioState s, int q, QueueState qs) {
        List<QueueState> queues = new ArrayList<>(s.queues());
        queues.set(q, qs);
        return new VirtioMmioState(s.status(), s.deviceFeaturesSel(), s.driverFeaturesSel(), s.driverFeatures(),
                s.queueSelect(), s.interruptStatus(), s.configGeneration(), queues);
    }

    @Test
    void shouldRejectRestoredQueueLargerThanTheDeviceMax() {
        VirtioMmioState good = runningTransport(new EchoDevice(2, 256), new RecordingLine()).save();
        QueueState q1 = good.queues().get(1);
        VirtioMmioState bad = withQueue(good, 1, new QueueState(512, true, q1.descAddr(), q1.driverAddr(),
                q1.deviceAddr(), 0, 0, true));

        VirtioMmioTransport fresh = new VirtioMmioTransport(new EchoDevice(2, 256), driver.memory, new RecordingLine(), "x");
        assertThatThrownBy(() -> fresh.restore(bad)).isInstanceOf(DeviceStateException.class)
                .hasMessage("failed to restore queue 1: size 512 exceeds max 256");
    }

    @Test
    void shouldRejectRestoredStateThatALiveQueueCouldNotHave() {
        VirtioMmioState good = runningTransport(new EchoDevice(2, 256), new RecordingLine()).save();
        QueueState q0 = good.queues().getFirst();
        EchoDevice device = new EchoDevice(2, 256);
        VirtioMmioTransport fresh = new VirtioMmioTransport(device, driver.memory, new RecordingLine(), "x");

        assertThatThrownBy(() -> fresh.restore(withQueue(good, 0, new QueueState(256, true, FakeDriver.RAM,
                q0.driverAddr(), q0.deviceAddr(), 0, 0, true))))
                .hasMessageContaining("failed to restore queue 0: descriptor table").hasMessageContaining("outside guest RAM");
        assertThatThrownBy(() -> fresh.restore(withQueue(good, 0, new QueueState(256, true, q0.descAddr(),
                q0.driverAddr(), q0.deviceAddr(), 70000, 0, true))))
                .hasMessageContaining("do not fit 16 bits");
        assertThatThrownBy(() -> fresh.restore(new VirtioMmioState(DeviceStatus.DRIVER_OK, 0, 0, 0, 0, 0, 0, good.queues())))
                .hasMessageContaining("not a reachable state");
        assertThatThrownBy(() -> fresh.restore(new VirtioMmioState(good.status(), 0, 0, good.driverFeatures() | (1L << 40),
                0, 0, 0, good.queues()))).hasMessageContaining("were not offered");
        assertThatThrownBy(() -> fresh.restore(new VirtioMmioState(good.status(), 0, 0, good.driverFeatures(),
                0, 0, 0, good.queues().subList(0, 1)))).hasMessageContaining("1 queues saved, device has 2");
        assertThatThrownBy(() -> fresh.restore(new VirtioMmioState(good.status(), 0, 0, good.driverFeatures(),
                0, 0x10, 0, good.queues()))).hasMessageContaining("interrupt status");

        assertThat(device.context).as("a rejected restore leaves the device untouched").isNull();
        assertThat(fresh.save().status()).isZero();
    }

    @Test
    void shouldRestoreABrokenDeviceAsBroken() throws DeviceStateException {
        EchoDevice device = new EchoDevice(2, 256);
        VirtioMmioTransport t = runningTransport(device, new RecordingLine());
        rx.makeAvailable(999);
        driver.notify(0);
        VirtioMmioState saved = t.save();
        assertThat(saved.status() & DeviceStatus.DEVICE_NEEDS_RESET).isNotZero();

        EchoDevice device2 = new EchoDevice(2, 256);
        VirtioMmioTransport t2 = new VirtioMmioTransport(device2, driver.memory, new RecordingLine(), "b");
        t2.restore(saved);
        assertThat(t2.isBroken()).isTrue();
        assertThat(device2.context).as("a broken device is not re-activated").isNull();
    }
}
