package io.jremus.vmm.devices.virtio.net;

import io.jremus.sys.ErrnoException;
import io.jremus.vmm.devices.DeviceStateException;
import io.jremus.vmm.devices.virtio.ActivationContext;
import io.jremus.vmm.devices.virtio.ConfigSpace;
import io.jremus.vmm.devices.virtio.DescriptorChain;
import io.jremus.vmm.devices.virtio.VirtioDevice;
import io.jremus.vmm.devices.virtio.VirtioSignals;
import io.jremus.vmm.devices.virtio.Virtqueue;
import io.jremus.vmm.devices.virtio.VirtqueueException;
import io.jremus.vmm.net.Epoll;
import io.jremus.vmm.net.EventFd;
import io.jremus.vmm.net.EventLoop;
import io.jremus.vmm.net.IoVec;
import io.jremus.vmm.net.MacAddress;
import io.jremus.vmm.net.Tap;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A virtio network device (type 1) connected to a {@link Tap}: queue 0 receives, queue 1
 * transmits (no control queue, no multiqueue). Offers MAC, STATUS (link always up) and, if
 * configured, MTU; no checksum or segmentation offloads and no MRG_RXBUF, so each receive chain
 * must hold a whole frame plus the 12-byte header.
 *
 * <p>Transmit runs on the vCPU thread that wrote QueueNotify(1): each chain (header + frame,
 * all device-readable) is gathered into a reused native buffer and handed to the
 * {@link OutputGate} (by default straight to the TAP). The guest's header is not passed on:
 * with no offloads negotiated there is nothing in it the host needs, and a hostile guest must
 * not steer the kernel's GSO code.
 *
 * <p>Receive runs on the {@link EventLoop} thread: when the TAP is readable a frame is read into
 * a reused native buffer, then copied with a fresh header (num_buffers 1) into the next receive
 * chain through {@link io.jremus.vmm.memory.GuestMemory}'s dirty-marking writes (invariant 4). When the
 * guest has no receive buffers the device stops watching the TAP (frames wait in the kernel's
 * queue, which drops on overflow) until QueueNotify(0) rings the device's eventfd. No chain is
 * ever held popped-but-unused between events, so a checkpoint never catches one in flight.
 *
 * <p>Guest errors: a TX chain with device-writable buffers, without a header, or carrying a
 * frame over 64 KiB, and an RX chain with device-readable buffers, are protocol violations and
 * mark the device broken; runt frames and frames too big for the RX chain are dropped and
 * counted. Nothing a guest does throws out of the device.
 *
 * <p>Locking: RX state is guarded by {@code rxLock}, held by the loop thread while it drains and
 * by {@link #activate}/{@link #reset} (vCPU thread, under the transport's lock) while they hand
 * the queue over, so no signal is sent after {@code reset} returns. TX state is touched only
 * under the transport's lock. The TAP and the loop belong to the caller; {@link #close()}
 * releases only what the device made.
 */
public final class VirtioNetDevice implements VirtioDevice, io.jremus.vmm.devices.CheckpointHooks, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VirtioNetDevice.class);
    public static final int QUEUE_SIZE = 256;
    /** Frames handled per wakeup before yielding the loop to other fds (the TAP stays level-triggered). */
    private static final int RX_BUDGET = 64;
    private static final int MAX_LOGGED = 8;

    private final VirtioNetConfig netConfig;
    private final long offered;
    private final byte[] config = new byte[VirtioNet.CONFIG_LENGTH];
    private final Tap tap;
    private final String name;
    private final Arena arena = Arena.ofShared();
    private final Counters counters = new Counters();
    private volatile OutputGate gate;

    // Receive: guarded by rxLock.
    private final Object rxLock = new Object();
    private final EventFd rxKick = new EventFd();
    private final EventLoop.Registration tapRegistration;
    private final EventLoop.Registration kickRegistration;
    private final MemorySegment rxBuffer = arena.allocate(VirtioNet.HDR_LEN + VirtioNet.MAX_FRAME + 1L, 8);
    private final IoVec rxIov = new IoVec(1, arena);
    private Virtqueue rxQueue;
    private DescriptorChain rxChain;
    private VirtioSignals rxSignals;
    private ActivationContext rxContext;
    /** Length (header included) of the frame in rxBuffer waiting for a guest buffer, or -1. */
    private long pending = -1;
    private boolean tapArmed;
    private boolean closed;
    private boolean quiesced; // between postSuspend and preResume: no receive into guest memory
    /** The TAP hung up or failed for good; it is no longer watched. */
    private boolean tapGone;
    private int rxLogged;

    // Transmit: touched only under the transport's lock.
    private final MemorySegment txBuffer = arena.allocate(VirtioNet.HDR_LEN + VirtioNet.MAX_FRAME, 8);
    private ActivationContext txContext;
    private DescriptorChain txChain;

    private volatile long ackedFeatures;

    /**
     * Creates the device and registers its TAP and doorbell with {@code loop} (not watched until
     * the driver activates the device). One device per TAP fd: epoll refuses a second registration. Transmitted frames go straight to the TAP until
     * {@link #setOutputGate} says otherwise.
     */
    public VirtioNetDevice(VirtioNetConfig netConfig, Tap tap, EventLoop loop) {
        this.netConfig = netConfig;
        this.tap = tap;
        this.name = "virtio-net(" + tap.name() + ")";
        this.gate = new TapOutputGate(tap);
        this.offered = VirtioNet.F_MAC | VirtioNet.F_STATUS | (netConfig.mtu() > 0 ? VirtioNet.F_MTU : 0);
        byte[] mac = netConfig.mac().bytes();
        System.arraycopy(mac, 0, config, VirtioNet.CONFIG_MAC, mac.length);
        ConfigSpace.write(config, VirtioNet.CONFIG_STATUS, 2, VirtioNet.S_LINK_UP);
        ConfigSpace.write(config, VirtioNet.CONFIG_MAX_PAIRS, 2, 1);
        ConfigSpace.write(config, VirtioNet.CONFIG_MTU, 2, netConfig.mtu());
        rxIov.add(rxBuffer);
        EventLoop.Registration t = null;
        try {
            t = loop.register(tap.fd(), 0, this::onTapReady);
            kickRegistration = loop.register(rxKick.fd(), Epoll.EPOLLIN, ev -> onKick());
        } catch (RuntimeException e) {
            if (t != null) t.close();
            rxKick.close();
            arena.close();
            throw e;
        }
        tapRegistration = t;
    }

    /**
     * Rebuilds a device from saved state, after checking it.
     *
     * @throws DeviceStateException naming the bad field; nothing was registered with the loop
     */
    public static VirtioNetDevice restore(VirtioNetState s, Tap tap, EventLoop loop) throws DeviceStateException {
        VirtioNetConfig cfg;
        try {
            cfg = new VirtioNetConfig(MacAddress.parse(s.mac()), s.mtu());
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new DeviceStateException("failed to restore virtio-net: " + e.getMessage());
        }
        long offered = VirtioNet.F_MAC | VirtioNet.F_STATUS | (cfg.mtu() > 0 ? VirtioNet.F_MTU : 0);
        if ((s.ackedFeatures() & ~offered) != 0) {
            throw new DeviceStateException("failed to restore virtio-net: features 0x"
                    + Long.toHexString(s.ackedFeatures() & ~offered) + " were not offered");
        }
        VirtioNetDevice d = new VirtioNetDevice(cfg, tap, loop);
        d.ackedFeatures = s.ackedFeatures();
        return d;
    }

    /** The device's state; call with the vCPUs paused. */
    public VirtioNetState save() {
        return new VirtioNetState(netConfig.mac().toString(), netConfig.mtu(), ackedFeatures);
    }

    /** Replaces where transmitted frames go (e.g. the Remus output buffer); null restores the TAP. */
    public void setOutputGate(OutputGate g) {
        gate = g == null ? new TapOutputGate(tap) : g;
    }

    public VirtioNetMetrics metrics() {
        return counters.snapshot();
    }

    public MacAddress mac() {
        return netConfig.mac();
    }

    /** The TAP this device sends to and receives from (owned by the caller, not the device). */
    public Tap tap() {
        return tap;
    }

    /**
     * Tells the segment where the guest's MAC now lives, as QEMU's self-announce does after a
     * migration: a broadcast RARP request from the guest's MAC, so bridges and switches update
     * their tables at once instead of after the guest's next transmission.
     */
    public void announce() {
        byte[] mac = netConfig.mac().bytes();
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment f = a.allocate(60);
            for (int i = 0; i < 6; i++) {
                f.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) 0xFF);      // broadcast
                f.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 6 + i, mac[i]);        // from the guest
                f.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 22 + i, mac[i]);       // sender hw address
                f.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 32 + i, mac[i]);       // target hw address
            }
            byte[] rarp = {(byte) 0x80, 0x35, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x03}; // RARP, Ethernet/IPv4, request reverse
            for (int i = 0; i < rarp.length; i++) f.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 12 + i, rarp[i]);
            tap.writeFrame(f);
        }
    }

    @Override
    public int deviceType() {
        return VirtioNet.DEVICE_TYPE;
    }

    @Override
    public long deviceFeatures() {
        return offered;
    }

    @Override
    public int queueCount() {
        return 2;
    }

    @Override
    public int queueMaxSize(int queue) {
        return QUEUE_SIZE;
    }

    @Override
    public long readConfig(int offset, int size) {
        return ConfigSpace.read(config, offset, size);
    }

    @Override
    public void writeConfig(int offset, int size, long value) {
        // The MAC is writable only with VIRTIO_NET_F_CTRL_MAC_ADDR-less legacy drivers; we are modern-only.
    }

    @Override
    public void activate(ActivationContext ctx) {
        ackedFeatures = ctx.features() & offered;
        txContext = ctx;
        Virtqueue tx = ctx.queue(VirtioNet.TX_QUEUE);
        txChain = tx == null ? null : tx.newChain();
        synchronized (rxLock) {
            Virtqueue rx = ctx.queue(VirtioNet.RX_QUEUE);
            rxContext = ctx;
            rxQueue = rx;
            rxSignals = ctx.signals();
            rxChain = rx == null ? null : rx.newChain();
            pending = -1;
        }
        rxKick.signal(); // the loop thread starts watching the TAP
    }

    @Override
    public void queueNotify(int queue) throws VirtqueueException {
        if (queue == VirtioNet.RX_QUEUE) {
            rxKick.signal();
        } else if (queue == VirtioNet.TX_QUEUE) {
            transmit();
        }
    }

    @Override
    public void reset() {
        synchronized (rxLock) {
            rxQueue = null;
            rxChain = null;
            rxSignals = null;
            rxContext = null;
            pending = -1;
            disarm();
        }
        txContext = null;
        txChain = null;
        ackedFeatures = 0;
    }

    /** Stops watching the TAP and releases the doorbell and buffers; the TAP and loop stay open. */
    @Override
    public void close() {
        reset();
        tapRegistration.close();
        kickRegistration.close();
        synchronized (rxLock) {
            if (closed) return;
            closed = true;
            rxKick.close();
            arena.close();
        }
    }

    // ---- transmit (vCPU thread) ----

    private void transmit() throws VirtqueueException {
        ActivationContext ctx = txContext;
        Virtqueue q = ctx == null ? null : ctx.queue(VirtioNet.TX_QUEUE);
        if (q == null) return;
        DescriptorChain chain = txChain;
        boolean used = false;
        try {
            while (q.pop(chain)) {
                if (chain.readableCount() != chain.count()) {
                    throw new VirtqueueException(VirtioNet.TX_QUEUE, "TX chain at head " + chain.head()
                            + " has device-writable descriptors");
                }
                long total = chain.readableBytes();
                if (total < VirtioNet.HDR_LEN) {
                    throw new VirtqueueException(VirtioNet.TX_QUEUE, "TX chain at head " + chain.head() + " holds "
                            + total + " bytes, less than the 12-byte header");
                }
                long frame = total - VirtioNet.HDR_LEN;
                if (frame > VirtioNet.MAX_FRAME) {
                    throw new VirtqueueException(VirtioNet.TX_QUEUE, "TX frame at head " + chain.head() + " of "
                            + frame + " bytes exceeds " + VirtioNet.MAX_FRAME);
                }
                if (frame < VirtioNet.ETH_HLEN) {
                    counters.txDropped++;
                } else {
                    chain.readInto(ctx.memory(), txBuffer.asSlice(0, total));
                    if (gate.submit(txBuffer.asSlice(VirtioNet.HDR_LEN, frame))) {
                        counters.txFrames++;
                        counters.txBytes += frame;
                    } else {
                        counters.txDropped++;
                    }
                }
                q.addUsed(chain.head(), 0);
                used = true;
            }
        } finally {
            if (used) ctx.signals().usedBuffers(q);
        }
    }

    // ---- checkpoint hooks (checkpoint thread) ----

    /**
     * Stops the receive path: once this returns no frame is being or will be written into guest
     * memory (receive runs under {@code rxLock}), and the TAP is out of epoll so the loop does
     * not spin on a readable TAP. Frames wait in the kernel's TAP queue.
     */
    @Override
    public void postSuspend() {
        synchronized (rxLock) {
            quiesced = true;
            disarm();
        }
    }

    /** Restarts the receive path where {@link #postSuspend} left it. */
    @Override
    public void preResume() {
        synchronized (rxLock) {
            quiesced = false;
        }
        rxKick.signal();
    }

    // ---- receive (loop thread) ----

    private void onKick() {
        synchronized (rxLock) {
            if (closed) return; // a late event from the batch that raced with close()
            rxKick.drain();
            if (rxQueue == null || quiesced) return;
            arm();
            drainRx();
        }
    }

    private void onTapReady(int events) {
        synchronized (rxLock) {
            if (closed || tapGone || quiesced) return;
            if ((events & (Epoll.EPOLLERR | Epoll.EPOLLHUP)) != 0) {
                // epoll reports errors and hang-ups even with an empty mask, so a TAP whose
                // interface went away would wake us forever: stop watching it for good.
                stopWatchingTap((events & Epoll.EPOLLHUP) != 0 ? "hang-up" : "an error");
                return;
            }
            drainRx();
        }
    }

    /** Moves frames from the TAP into receive chains until one side runs out or the budget is spent. */
    private void drainRx() {
        Virtqueue q = rxQueue;
        if (q == null || rxSignals.isBroken()) {
            disarm();
            return;
        }
        boolean used = false;
        try {
            for (int budget = RX_BUDGET; budget > 0; budget--) {
                if (pending < 0) {
                    long n = tap.readv(rxIov);
                    if (n == Tap.WOULD_BLOCK) break;
                    if (n == 0) {
                        stopWatchingTap("end of file"); // a TAP never does this; a wrapped socket's peer left
                        break;
                    }
                    if (!acceptable(n)) {
                        counters.rxDropped++;
                        continue;
                    }
                    pending = n;
                }
                if (!q.pop(rxChain)) {
                    disarm(); // out of guest buffers: QueueNotify(0) brings us back
                    break;
                }
                deliver(q, rxChain);
                used = true;
            }
        } catch (VirtqueueException e) {
            rxSignals.deviceBroken(e);
            disarm();
        } catch (ErrnoException e) {
            // The TAP failed (e.g. detached): stop watching it rather than spin; a kick retries.
            if (rxLogged++ < MAX_LOGGED) LOG.warn("{}: receive stopped: {}", name, e.getMessage());
            disarm();
        } finally {
            if (used) rxSignals.usedBuffers(q);
        }
    }

    /** Whether the frame just read (n bytes with header) can go to the guest as it is. */
    private boolean acceptable(long n) {
        if (n < VirtioNet.HDR_LEN + VirtioNet.ETH_HLEN) return false;
        if (n > VirtioNet.HDR_LEN + VirtioNet.MAX_FRAME) return false; // cut short by our buffer
        // Offloads are off, so the kernel should hand us neither GSO frames nor partial
        // checksums; the guest did not negotiate them either, so such a frame is dropped.
        int flags = rxBuffer.get(ValueLayout.JAVA_BYTE, VirtioNet.HDR_FLAGS);
        int gso = rxBuffer.get(ValueLayout.JAVA_BYTE, VirtioNet.HDR_GSO_TYPE);
        return gso == 0 && (flags & VirtioNet.HDR_F_NEEDS_CSUM) == 0;
    }

    private void deliver(Virtqueue q, DescriptorChain chain) throws VirtqueueException {
        if (chain.readableCount() != 0) {
            throw new VirtqueueException(VirtioNet.RX_QUEUE, "RX chain at head " + chain.head()
                    + " has device-readable descriptors");
        }
        long n = pending;
        pending = -1;
        if (chain.writableBytes() < n) {
            // Without MRG_RXBUF each chain must hold a whole frame; this one cannot.
            counters.rxDropped++;
            q.addUsed(chain.head(), 0);
            return;
        }
        // A fresh header: no flags (no GUEST_CSUM), no GSO, one buffer.
        rxBuffer.asSlice(0, VirtioNet.HDR_LEN).fill((byte) 0);
        rxBuffer.set(ValueLayout.JAVA_SHORT_UNALIGNED, VirtioNet.HDR_NUM_BUFFERS, (short) 1);
        long written = chain.writeFrom(rxContext.memory(), rxBuffer.asSlice(0, n));
        q.addUsed(chain.head(), written);
        counters.rxFrames++;
        counters.rxBytes += n - VirtioNet.HDR_LEN;
    }

    private void stopWatchingTap(String why) {
        if (tapGone) return;
        tapGone = true;
        LOG.warn("{}: TAP reports {} (interface gone?); receive stopped", name, why);
        tapRegistration.close();
        tapArmed = false;
    }

    private void arm() {
        if (!tapArmed) {
            tapRegistration.modify(Epoll.EPOLLIN);
            tapArmed = true;
        }
    }

    private void disarm() {
        if (tapArmed) {
            tapRegistration.modify(0);
            tapArmed = false;
        }
    }

    /** Single-writer counters: rx* written only by the loop thread, tx* only under the transport lock. */
    private static final class Counters {
        volatile long rxFrames, rxBytes, rxDropped, txFrames, txBytes, txDropped;

        VirtioNetMetrics snapshot() {
            return new VirtioNetMetrics(rxFrames, rxBytes, rxDropped, txFrames, txBytes, txDropped);
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
