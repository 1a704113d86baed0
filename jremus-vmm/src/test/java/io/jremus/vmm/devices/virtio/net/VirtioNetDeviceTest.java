package io.jremus.vmm.devices.virtio.net;

import static io.jremus.vmm.devices.virtio.FakeDriver.F_NEXT;
import static io.jremus.vmm.devices.virtio.FakeDriver.F_WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jremus.vmm.devices.DeviceStateException;
import io.jremus.vmm.devices.virtio.DeviceStatus;
import io.jremus.vmm.net.EventLoop;
import io.jremus.vmm.net.MacAddress;
import io.jremus.vmm.net.SocketPair;
import io.jremus.vmm.net.Tap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The device against a SOCK_SEQPACKET socketpair standing in for the TAP (same framing: one
 * message = 12-byte header + frame), so these run without root. The real TAP is covered by
 * {@link VirtioNetTapTest}.
 */
class VirtioNetDeviceTest {
    static final MacAddress MAC = MacAddress.parse("52:54:00:12:34:56");

    final NetDriver net = new NetDriver();
    EventLoop loop;
    Tap tap;
    int host;
    VirtioNetDevice device;

    @BeforeEach
    void setUp() {
        int[] pair = SocketPair.seqpacket();
        tap = Tap.wrap(pair[0], "sp-test");
        host = pair[1];
        loop = new EventLoop("net-test-loop");
        device = new VirtioNetDevice(new VirtioNetConfig(MAC, 1500), tap, loop);
    }

    @AfterEach
    void tearDown() {
        device.close();
        loop.close();
        tap.close();
        io.jremus.sys.Libc.close(host);
    }

    static byte[] frame(int length, int fill) {
        byte[] f = new byte[length];
        Arrays.fill(f, (byte) fill);
        return f;
    }

    static byte[] withHeader(byte[] frame) {
        byte[] m = new byte[12 + frame.length];
        System.arraycopy(frame, 0, m, 12, frame.length);
        return m;
    }

    private void assertBroken() {
        assertThat(net.transport.isBroken()).isTrue();
        assertThat(net.driver.status() & DeviceStatus.DEVICE_NEEDS_RESET).isNotZero();
    }

    @Test
    void shouldOfferMacStatusAndMtuInConfig() {
        assertThat(device.deviceType()).isEqualTo(1);
        assertThat(device.deviceFeatures()).isEqualTo(VirtioNet.F_MAC | VirtioNet.F_STATUS | VirtioNet.F_MTU);
        assertThat(device.readConfig(0, 4)).isEqualTo(0x12005452L);
        assertThat(device.readConfig(4, 2)).isEqualTo(0x5634);
        assertThat(device.readConfig(6, 2)).isEqualTo(VirtioNet.S_LINK_UP);
        assertThat(device.readConfig(10, 2)).isEqualTo(1500);
    }

    @Test
    void shouldDeliverAFrameIntoAGuestReceiveBufferWithAFreshHeader() {
        net.bringUp(device, VirtioNet.F_MAC);
        net.postRx(4, 2048);
        net.driver.clearDirty();
        byte[] kernelHeader = new byte[12];
        kernelHeader[0] = 2; // DATA_VALID from the kernel must not reach a guest without GUEST_CSUM
        byte[] f = frame(60, 0x42);
        byte[] msg = withHeader(f);
        System.arraycopy(kernelHeader, 0, msg, 0, 12);
        SocketPair.send(host, msg);

        NetDriver.Received r = net.nextRx();
        assertThat(r.usedLen()).isEqualTo(72);
        assertThat(r.frame()).isEqualTo(f);
        assertThat(r.header()[0]).isZero();
        assertThat(r.numBuffers()).isEqualTo(1);
        assertThat(net.irq.level()).isTrue();
        assertThat(net.driver.dirty(NetDriver.RX_BUFFERS)).isTrue();
        assertThat(net.driver.dirty(net.rx.used)).isTrue();
        assertThat(device.metrics()).isEqualTo(new VirtioNetMetrics(1, 60, 0, 0, 0, 0));
    }

    @Test
    void shouldLeaveFramesWaitingWhileTheGuestHasNoBuffersAndResumeOnNotify() throws Exception {
        net.bringUp(device, VirtioNet.F_MAC);
        SocketPair.send(host, withHeader(frame(100, 1)));
        SocketPair.send(host, withHeader(frame(100, 2)));
        Thread.sleep(50); // give the loop a chance to (wrongly) drop them
        assertThat(device.metrics().rxDropped()).isZero();
        assertThat(net.rxUsed()).isZero();

        net.postRx(1, 2048);
        assertThat(net.nextRx().frame()[0]).isEqualTo((byte) 1);
        net.postRx(1, 2048);
        assertThat(net.nextRx().frame()[0]).isEqualTo((byte) 2);
        assertThat(device.metrics().rxFrames()).isEqualTo(2);
    }

    @Test
    void shouldDropAndCountAFrameTooBigForTheReceiveBuffer() {
        net.bringUp(device, VirtioNet.F_MAC);
        net.postRx(2, 100);
        SocketPair.send(host, withHeader(frame(200, 7)));
        NetDriver.Received dropped = net.nextRx();
        assertThat(dropped.usedLen()).isZero();
        assertThat(device.metrics().rxDropped()).isEqualTo(1);

        SocketPair.send(host, withHeader(frame(60, 8)));
        assertThat(net.nextRx().frame()).isEqualTo(frame(60, 8));
        assertThat(net.transport.isBroken()).isFalse();
    }

    @Test
    void shouldTransmitGuestFramesToTheTapWithAZeroedHeader() {
        net.bringUp(device, VirtioNet.F_MAC);
        byte[] hostile = new byte[12];
        hostile[0] = 1; // NEEDS_CSUM
        hostile[1] = 3; // GSO_TCPV6: not negotiated, must not reach the kernel
        byte[] f = frame(90, 0x33);
        net.transmit(hostile, f);
        NetDriver.await(() -> net.tx.usedIdx() == 1, "the TX chain to be used");
        byte[] out = SocketPair.receive(host);
        assertThat(out).hasSize(102);
        assertThat(Arrays.copyOfRange(out, 0, 12)).containsOnly(0);
        assertThat(Arrays.copyOfRange(out, 12, 102)).isEqualTo(f);
        assertThat(net.irq.level()).isTrue();
        assertThat(device.metrics()).isEqualTo(new VirtioNetMetrics(0, 0, 0, 1, 90, 0));
    }

    @Test
    void shouldSendTransmittedFramesThroughTheInstalledOutputGate() {
        List<byte[]> held = new ArrayList<>();
        device.setOutputGate(frame -> held.add(frame.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)));
        net.bringUp(device, VirtioNet.F_MAC);
        net.transmit(frame(64, 9));
        net.transmit(frame(10, 9)); // a runt: dropped before the gate
        assertThat(held).hasSize(1);
        assertThat(held.getFirst()).isEqualTo(frame(64, 9));
        assertThat(SocketPair.receive(host)).isNull();
        assertThat(device.metrics().txDropped()).isEqualTo(1);
    }

    @Test
    void shouldMarkTheDeviceBrokenForAWritableDescriptorOnTx() {
        net.bringUp(device, VirtioNet.F_MAC);
        net.tx.desc(0, NetDriver.TX_BUFFER, 12, F_NEXT, 1);
        net.tx.desc(1, NetDriver.TX_BUFFER + 0x100, 64, F_WRITE, 0);
        net.tx.makeAvailable(0);
        net.driver.notify(1);
        assertBroken();
        assertThat(SocketPair.receive(host)).isNull();
    }

    @Test
    void shouldMarkTheDeviceBrokenForATxFrameOver64KiB() {
        net.bringUp(device, VirtioNet.F_MAC);
        net.tx.desc(0, NetDriver.TX_BUFFER, 12 + 65537, 0, 0);
        net.tx.makeAvailable(0);
        net.driver.notify(1);
        assertBroken();
        assertThat(SocketPair.receive(host)).isNull();
        assertThat(loop.isRunning()).isTrue();
    }

    @Test
    void shouldMarkTheDeviceBrokenForAReadableDescriptorOnRx() {
        net.bringUp(device, VirtioNet.F_MAC);
        net.rx.desc(0, NetDriver.RX_BUFFERS, 2048, 0, 0);
        net.rx.makeAvailable(0);
        net.driver.notify(0);
        SocketPair.send(host, withHeader(frame(60, 1)));
        NetDriver.await(() -> net.transport.isBroken(), "the device to be marked broken");
        assertBroken();
        assertThat(net.driver.memory.read(NetDriver.RX_BUFFERS, 12)).containsOnly(0);
    }

    @Test
    void shouldSignalNothingAfterReset() throws Exception {
        net.bringUp(device, VirtioNet.F_MAC);
        net.postRx(2, 2048);
        net.driver.reg(0x070, 0); // STATUS = 0: reset
        SocketPair.send(host, withHeader(frame(60, 1)));
        Thread.sleep(50);
        assertThat(net.rxUsed()).isZero();
        assertThat(device.metrics().rxFrames()).isZero();
    }

    @Test
    void shouldStopWatchingATapThatHungUpAndKeepTheLoopServingOthers() throws Exception {
        net.bringUp(device, VirtioNet.F_MAC);
        net.postRx(1, 2048);
        io.jremus.sys.Libc.close(host); // the peer goes away: EPOLLHUP from now on
        host = io.jremus.sys.Libc.eventfd(0, 0); // something for tearDown to close
        Thread.sleep(50);
        try (io.jremus.vmm.net.EventFd bell = new io.jremus.vmm.net.EventFd()) {
            java.util.concurrent.CountDownLatch served = new java.util.concurrent.CountDownLatch(1);
            try (var reg = loop.register(bell.fd(), io.jremus.vmm.net.Epoll.EPOLLIN, ev -> {
                bell.drain();
                served.countDown();
            })) {
                bell.signal();
                assertThat(served.await(5, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            }
        }
        assertThat(net.transport.isBroken()).isFalse();
        assertThat(device.metrics().rxDropped()).as("EOF is not a stream of empty frames").isZero();
        net.transmit(frame(60, 1)); // TX to a dead peer is a counted drop, not a crash
        assertThat(device.metrics().txDropped()).isEqualTo(1);
    }

    @Test
    void shouldSaveStateAndRestoreOnlyValidState() throws Exception {
        net.bringUp(device, VirtioNet.F_MAC | VirtioNet.F_STATUS);
        VirtioNetState s = device.save();
        assertThat(s).isEqualTo(new VirtioNetState("52:54:00:12:34:56", 1500, VirtioNet.F_MAC | VirtioNet.F_STATUS));

        long macWord = device.readConfig(0, 4);
        device.close(); // the replacement takes over the TAP's registration with the loop
        device = VirtioNetDevice.restore(s, tap, loop);
        assertThat(device.save()).isEqualTo(s);
        assertThat(device.readConfig(0, 4)).isEqualTo(macWord);
        assertThatThrownBy(() -> VirtioNetDevice.restore(new VirtioNetState("01:00:5e:00:00:01", 0, 0), tap, loop))
                .isInstanceOf(DeviceStateException.class).hasMessageContaining("multicast");
        assertThatThrownBy(() -> VirtioNetDevice.restore(new VirtioNetState("nonsense", 0, 0), tap, loop))
                .isInstanceOf(DeviceStateException.class).hasMessageContaining("not a MAC address");
        assertThatThrownBy(() -> VirtioNetDevice.restore(new VirtioNetState("52:54:00:12:34:56", 0, VirtioNet.F_MTU), tap, loop))
                .isInstanceOf(DeviceStateException.class).hasMessageContaining("were not offered");
    }
}
