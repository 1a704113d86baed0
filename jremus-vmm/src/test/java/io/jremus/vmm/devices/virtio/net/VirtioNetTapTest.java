package io.jremus.vmm.devices.virtio.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.jremus.vmm.net.EventLoop;
import io.jremus.vmm.net.MacAddress;
import io.jremus.vmm.net.NetNs;
import io.jremus.vmm.net.Tap;
import io.jremus.vmm.net.TestNamespace;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The device on a real TAP inside a throw-away network namespace: the namespace's kernel is the
 * "host" at 10.77.0.1 and the fake driver is the guest at 10.77.0.2. No address outside the
 * namespace is used. Skipped (saying why) when not root or when {@code ip netns} is unavailable.
 */
class VirtioNetTapTest {
    static final MacAddress GUEST_MAC = MacAddress.parse("52:54:00:77:00:02");
    static final MacAddress HOST_MAC = MacAddress.parse("02:77:00:00:00:01");
    static final byte[] HOST_IP = {10, 77, 0, 1};
    static final byte[] GUEST_IP = {10, 77, 0, 2};

    TestNamespace ns;
    Tap tap;
    EventLoop loop;
    VirtioNetDevice device;
    DatagramSocket socket;

    @AfterEach
    void cleanUp() {
        if (device != null) device.close();
        if (loop != null) loop.close();
        if (tap != null) tap.close();
        if (socket != null) socket.close();
        if (ns != null) ns.close();
    }

    private NetDriver startGuest() throws Exception {
        ns = TestNamespace.createOrSkip();
        tap = NetNs.runIn(ns.name, () -> Tap.create("jt0"));
        ns.ip("link", "set", "jt0", "address", HOST_MAC.toString());
        ns.ip("addr", "add", "10.77.0.1/24", "dev", "jt0");
        ns.ip("link", "set", "jt0", "up");
        // A socket made inside the namespace stays there; the test thread then uses it as is.
        socket = NetNs.runIn(ns.name, () -> new DatagramSocket(new InetSocketAddress(InetAddress.getByAddress(HOST_IP), 5555)));
        socket.setSoTimeout(5000);
        loop = new EventLoop("net-tap-test-loop");
        device = new VirtioNetDevice(VirtioNetConfig.of(GUEST_MAC), tap, loop);
        NetDriver net = new NetDriver();
        net.bringUp(device, VirtioNet.F_MAC | VirtioNet.F_STATUS);
        net.postRx(32, 2048);
        return net;
    }

    /** Receives frames until one has {@code etherType}, skipping the namespace's IPv6 chatter. */
    private static byte[] nextFrameOfType(NetDriver net, int etherType) {
        for (int i = 0; i < 32; i++) {
            byte[] f = net.nextRx().frame();
            if (((f[12] & 0xFF) << 8 | (f[13] & 0xFF)) == etherType) return f;
        }
        throw new AssertionError("no frame of type 0x" + Integer.toHexString(etherType) + " in 32 frames");
    }

    @Test
    void shouldCarryArpAndUdpBothWaysBetweenGuestAndNamespace() throws Exception {
        NetDriver net = startGuest();

        // The namespace sends to the guest: its kernel first asks who has 10.77.0.2.
        byte[] ping = "ping-from-ns".getBytes(StandardCharsets.US_ASCII);
        socket.send(new DatagramPacket(ping, ping.length, new InetSocketAddress(InetAddress.getByAddress(GUEST_IP), 7777)));
        byte[] arp = nextFrameOfType(net, 0x0806);
        assertThat(Arrays.copyOfRange(arp, 0, 6)).containsOnly(0xFF);          // broadcast
        assertThat(Arrays.copyOfRange(arp, 6, 12)).isEqualTo(HOST_MAC.bytes());
        assertThat(arp[21]).as("ARP op = request").isEqualTo((byte) 1);
        assertThat(Arrays.copyOfRange(arp, 28, 32)).isEqualTo(HOST_IP);        // sender IP
        assertThat(Arrays.copyOfRange(arp, 38, 42)).isEqualTo(GUEST_IP);       // target IP

        // The guest answers; the namespace then releases the datagram it held.
        net.transmit(arpReply());
        byte[] udp = nextFrameOfType(net, 0x0800);
        assertThat(udp[23]).as("IP protocol = UDP").isEqualTo((byte) 17);
        assertThat(Arrays.copyOfRange(udp, 30, 34)).isEqualTo(GUEST_IP);
        assertThat(new String(Arrays.copyOfRange(udp, 42, 42 + ping.length), StandardCharsets.US_ASCII)).isEqualTo("ping-from-ns");

        // The guest sends a datagram; a socket inside the namespace receives it.
        net.transmit(udpToHost("pong-from-guest".getBytes(StandardCharsets.US_ASCII)));
        DatagramPacket in = new DatagramPacket(new byte[100], 100);
        socket.receive(in);
        assertThat(new String(in.getData(), 0, in.getLength(), StandardCharsets.US_ASCII)).isEqualTo("pong-from-guest");
        assertThat(in.getAddress().getAddress()).isEqualTo(GUEST_IP);

        VirtioNetMetrics m = device.metrics();
        assertThat(m.txFrames()).isEqualTo(2);
        assertThat(m.rxFrames()).isGreaterThanOrEqualTo(2);
        assertThat(m.txDropped()).isZero();
    }

    @Test
    void shouldDropFramesTooBigForSmallReceiveBuffersWithoutBreaking() throws Exception {
        ns = TestNamespace.createOrSkip();
        tap = NetNs.runIn(ns.name, () -> Tap.create("jt0"));
        ns.ip("addr", "add", "10.77.0.1/24", "dev", "jt0");
        ns.ip("link", "set", "jt0", "up");
        socket = NetNs.runIn(ns.name, () -> new DatagramSocket(new InetSocketAddress(InetAddress.getByAddress(HOST_IP), 5555)));
        loop = new EventLoop("net-tap-test-loop");
        device = new VirtioNetDevice(VirtioNetConfig.of(GUEST_MAC), tap, loop);
        NetDriver net = new NetDriver();
        net.bringUp(device, VirtioNet.F_MAC);
        net.postRx(8, 30); // room for a header and 18 bytes: every frame is too big

        socket.send(new DatagramPacket(new byte[8], 8, new InetSocketAddress(InetAddress.getByAddress(GUEST_IP), 7777)));
        NetDriver.Received r = net.nextRx();
        assertThat(r.usedLen()).isZero();
        assertThat(device.metrics().rxDropped()).isGreaterThanOrEqualTo(1);
        assertThat(net.transport.isBroken()).isFalse();
    }

    private static byte[] arpReply() {
        ByteBuffer b = ByteBuffer.allocate(42);
        b.put(HOST_MAC.bytes()).put(GUEST_MAC.bytes()).putShort((short) 0x0806);
        b.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4).putShort((short) 2);
        b.put(GUEST_MAC.bytes()).put(GUEST_IP).put(HOST_MAC.bytes()).put(HOST_IP);
        return b.array();
    }

    private static byte[] udpToHost(byte[] payload) {
        int ipLen = 20 + 8 + payload.length;
        ByteBuffer b = ByteBuffer.allocate(14 + ipLen);
        b.put(HOST_MAC.bytes()).put(GUEST_MAC.bytes()).putShort((short) 0x0800);
        int ip = b.position();
        b.put((byte) 0x45).put((byte) 0).putShort((short) ipLen).putShort((short) 1).putShort((short) 0x4000)
                .put((byte) 64).put((byte) 17).putShort((short) 0).put(GUEST_IP).put(HOST_IP);
        b.putShort(ip + 10, ipChecksum(b.array(), ip));
        b.putShort((short) 7777).putShort((short) 5555).putShort((short) (8 + payload.length)).putShort((short) 0);
        b.put(payload);
        return b.array();
    }

    private static short ipChecksum(byte[] a, int off) {
        int sum = 0;
        for (int i = 0; i < 20; i += 2) sum += (a[off + i] & 0xFF) << 8 | (a[off + i + 1] & 0xFF);
        while ((sum >>> 16) != 0) sum = (sum & 0xFFFF) + (sum >>> 16);
        return (short) ~sum;
    }
}
