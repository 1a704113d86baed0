package io.jremus.vmm.devices.virtio;

import io.jremus.vmm.devices.DeviceStateException;
import io.jremus.vmm.devices.InterruptLine;
import io.jremus.vmm.devices.MmioDevice;
import io.jremus.vmm.memory.GuestMemory;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The virtio-mmio transport, modern interface (Version 2, virtio 1.x §4.2), for one
 * {@link VirtioDevice}: the register file at the device's MMIO window, feature negotiation,
 * queue setup, the status state machine, and the device's interrupt line.
 *
 * <p>The guest is untrusted. A write that the spec does not allow in the current state (queue
 * setup after DRIVER_OK, features after FEATURES_OK, clearing status bits, a wrong access size)
 * is ignored and logged; FEATURES_OK is refused (left clear) if the driver accepted a feature
 * that was not offered or did not accept VERSION_1. A malformed ring, found at DRIVER_OK or while
 * the device works, marks the device broken: DEVICE_NEEDS_RESET is set, a config-change
 * interrupt is raised and notifications are dropped until the driver resets it. Nothing thrown
 * by the device or the rings escapes to the vCPU loop.
 *
 * <p>The interrupt line is a level: high while InterruptStatus is non-zero. Register the
 * transport on the {@code MmioBus} with {@link io.jremus.vmm.MachineLayout#VIRTIO_MMIO_SIZE}
 * bytes.
 *
 * <p>Locking: register accesses, save and restore hold the transport's monitor (and call the
 * device under it); InterruptStatus, ConfigGeneration and the line are guarded by a separate
 * lock that device workers take through {@link VirtioSignals}, and "broken" is a volatile flag,
 * so a worker never waits for a vCPU that is waiting for the worker.
 */
public final class VirtioMmioTransport implements MmioDevice {
    private static final Logger LOG = LoggerFactory.getLogger(VirtioMmioTransport.class);

    public static final int MAGIC = 0x7472_6976; // "virt"
    public static final int VERSION = 2;
    /** "JRMS" in the little-endian ASCII convention vendors use. */
    public static final int VENDOR_ID = 0x534D_524A;
    public static final int INT_USED_BUFFER = 1;
    public static final int INT_CONFIG_CHANGE = 2;
    private static final int MAX_WARNINGS = 32;

    // Register offsets.
    static final int MAGIC_VALUE = 0x000, VERSION_REG = 0x004, DEVICE_ID = 0x008, VENDOR_ID_REG = 0x00C,
            DEVICE_FEATURES = 0x010, DEVICE_FEATURES_SEL = 0x014, DRIVER_FEATURES = 0x020,
            DRIVER_FEATURES_SEL = 0x024, QUEUE_SEL = 0x030, QUEUE_NUM_MAX = 0x034, QUEUE_NUM = 0x038,
            QUEUE_READY = 0x044, QUEUE_NOTIFY = 0x050, INTERRUPT_STATUS = 0x060, INTERRUPT_ACK = 0x064,
            STATUS = 0x070, QUEUE_DESC_LOW = 0x080, QUEUE_DESC_HIGH = 0x084, QUEUE_DRIVER_LOW = 0x090,
            QUEUE_DRIVER_HIGH = 0x094, QUEUE_DEVICE_LOW = 0x0A0, QUEUE_DEVICE_HIGH = 0x0A4,
            SHM_LEN_LOW = 0x0B0, SHM_BASE_HIGH = 0x0BC, CONFIG_GENERATION = 0x0FC, CONFIG = 0x100;

    /** What the driver wrote for one queue before activation. */
    private static final class QueueRegisters {
        int size;
        boolean ready;
        long desc;
        long driver;
        long device;

        QueueRegisters(int size) {
            this.size = size;
        }
    }

    private final VirtioDevice device;
    private final GuestMemory memory;
    private final InterruptLine irq;
    private final String name;
    private final long offeredFeatures;
    private final int queueCount;
    private final int[] maxSizes;
    private final Signals signals = new Signals();

    // Guarded by this.
    private int status;
    private int deviceFeaturesSel;
    private int driverFeaturesSel;
    private long driverFeatures;
    private boolean unknownFeaturesWritten;
    private int queueSel;
    private QueueRegisters[] queueRegs;
    private Virtqueue[] liveQueues;
    private boolean activated;
    private int warnings;

    private volatile boolean broken;

    // Guarded by irqLock.
    private final Object irqLock = new Object();
    private int interruptStatus;
    private int configGeneration;
    private boolean irqLevel;

    /**
     * @param device the device model; its queue count and sizes must not change afterwards
     * @param memory guest RAM, for ring and buffer access
     * @param irq    the device's GSI
     * @param name   for logs, e.g. "virtio-net@0xd0000000"
     */
    public VirtioMmioTransport(VirtioDevice device, GuestMemory memory, InterruptLine irq, String name) {
        this.device = device;
        this.memory = memory;
        this.irq = irq;
        this.name = name;
        this.offeredFeatures = device.deviceFeatures() | VirtioFeatures.TRANSPORT_OFFERED;
        this.queueCount = device.queueCount();
        this.maxSizes = new int[queueCount];
        for (int q = 0; q < queueCount; q++) {
            int max = device.queueMaxSize(q);
            if (max <= 0 || max > Virtqueue.MAX_SIZE || Integer.bitCount(max) != 1) {
                throw new IllegalArgumentException(name + ": queue " + q + " max size " + max + " is not a power of 2 in 1.." + Virtqueue.MAX_SIZE);
            }
            maxSizes[q] = max;
        }
        clearRegisters();
    }

    @Override
    public synchronized long read(long offset, int size) {
        if (offset >= CONFIG) return device.readConfig((int) (offset - CONFIG), size);
        if (size != 4 || (offset & 3) != 0) {
            illegal("read of size " + size + " at 0x" + Long.toHexString(offset));
            return 0;
        }
        return switch ((int) offset) {
            case MAGIC_VALUE -> MAGIC;
            case VERSION_REG -> VERSION;
            case DEVICE_ID -> device.deviceType();
            case VENDOR_ID_REG -> VENDOR_ID;
            case DEVICE_FEATURES -> switch (deviceFeaturesSel) {
                case 0 -> offeredFeatures & 0xFFFF_FFFFL;
                case 1 -> offeredFeatures >>> 32;
                default -> 0;
            };
            case QUEUE_NUM_MAX -> selectedQueue() == null ? 0 : maxSizes[queueSel];
            case QUEUE_READY -> selectedQueue() != null && selectedQueue().ready ? 1 : 0;
            case INTERRUPT_STATUS -> {
                synchronized (irqLock) {
                    yield interruptStatus;
                }
            }
            case STATUS -> visibleStatus();
            case CONFIG_GENERATION -> {
                synchronized (irqLock) {
                    yield configGeneration;
                }
            }
            // No shared memory regions: length -1 and base all ones, as the spec asks.
            case SHM_LEN_LOW, SHM_LEN_LOW + 4, SHM_LEN_LOW + 8, SHM_BASE_HIGH -> 0xFFFF_FFFFL;
            default -> 0;
        };
    }

    @Override
    public synchronized void write(long offset, int size, long value) {
        if (offset >= CONFIG) {
            if ((status & DeviceStatus.DRIVER) == 0 || (status & DeviceStatus.FAILED) != 0) {
                illegal("config write before DRIVER or after FAILED");
            } else {
                device.writeConfig((int) (offset - CONFIG), size, value);
            }
            return;
        }
        if (size != 4 || (offset & 3) != 0) {
            illegal("write of size " + size + " at 0x" + Long.toHexString(offset));
            return;
        }
        int v = (int) value;
        switch ((int) offset) {
            case DEVICE_FEATURES_SEL -> deviceFeaturesSel = v;
            case DRIVER_FEATURES_SEL -> driverFeaturesSel = v;
            case DRIVER_FEATURES -> writeDriverFeatures(v);
            case QUEUE_SEL -> queueSel = v;
            case QUEUE_NUM -> {
                QueueRegisters q = queueForSetup("QueueNum");
                if (q != null) q.size = v; // checked when the queue goes live, to report it precisely
            }
            case QUEUE_READY -> writeQueueReady(v);
            case QUEUE_DESC_LOW, QUEUE_DESC_HIGH, QUEUE_DRIVER_LOW, QUEUE_DRIVER_HIGH, QUEUE_DEVICE_LOW,
                 QUEUE_DEVICE_HIGH -> writeQueueAddress((int) offset, v);
            case QUEUE_NOTIFY -> notifyQueue(v);
            case INTERRUPT_ACK -> {
                synchronized (irqLock) {
                    interruptStatus &= ~v;
                    updateLineLocked();
                }
            }
            case STATUS -> writeStatus(v & 0xFF);
            default -> illegal("write to read-only or unknown register 0x" + Long.toHexString(offset));
        }
    }

    /** The transport's state; call only while device workers are quiesced. */
    public synchronized VirtioMmioState save() {
        List<QueueState> qs = new ArrayList<>(queueCount);
        boolean eventIdx = VirtioFeatures.has(driverFeatures, VirtioFeatures.RING_EVENT_IDX);
        for (int q = 0; q < queueCount; q++) {
            Virtqueue live = liveQueues[q];
            QueueRegisters r = queueRegs[q];
            qs.add(live != null ? live.save()
                    : new QueueState(r.size, r.ready, r.desc, r.driver, r.device, 0, 0, eventIdx && r.ready));
        }
        synchronized (irqLock) {
            return new VirtioMmioState(visibleStatus(), deviceFeaturesSel, driverFeaturesSel, driverFeatures,
                    queueSel, interruptStatus, configGeneration, qs);
        }
    }

    /**
     * Replaces the transport's state with a saved one, re-activating the device if the saved
     * driver had set DRIVER_OK. The state is checked completely before anything changes; live
     * queues are built through the same validation as a guest's setup. Restore the device's own
     * state before calling this, since activation hands the device its queues.
     *
     * @throws DeviceStateException e.g. "failed to restore queue 1: size 512 exceeds max 256"
     */
    public synchronized void restore(VirtioMmioState s) throws DeviceStateException {
        int st = s.status();
        if ((st & ~DeviceStatus.ALL) != 0 || !DeviceStatus.ordered(st)) {
            throw new DeviceStateException("failed to restore " + name + ": status 0x" + Integer.toHexString(st) + " is not a reachable state");
        }
        long unoffered = s.driverFeatures() & ~offeredFeatures;
        if (unoffered != 0) {
            throw new DeviceStateException("failed to restore " + name + ": driver features 0x" + Long.toHexString(unoffered) + " were not offered");
        }
        if ((st & DeviceStatus.FEATURES_OK) != 0 && !VirtioFeatures.has(s.driverFeatures(), VirtioFeatures.VERSION_1)) {
            throw new DeviceStateException("failed to restore " + name + ": FEATURES_OK without VERSION_1");
        }
        if ((s.interruptStatus() & ~(INT_USED_BUFFER | INT_CONFIG_CHANGE)) != 0) {
            throw new DeviceStateException("failed to restore " + name + ": interrupt status 0x" + Integer.toHexString(s.interruptStatus()));
        }
        if (s.queues().size() != queueCount) {
            throw new DeviceStateException("failed to restore " + name + ": " + s.queues().size() + " queues saved, device has " + queueCount);
        }
        boolean live = (st & DeviceStatus.DRIVER_OK) != 0 && (st & DeviceStatus.DEVICE_NEEDS_RESET) == 0;
        boolean eventIdx = VirtioFeatures.has(s.driverFeatures(), VirtioFeatures.RING_EVENT_IDX);
        boolean indirect = VirtioFeatures.has(s.driverFeatures(), VirtioFeatures.RING_INDIRECT_DESC);
        Virtqueue[] restored = new Virtqueue[queueCount];
        for (int q = 0; q < queueCount; q++) {
            QueueState qs = s.queues().get(q);
            try {
                if (qs.size() > maxSizes[q]) Virtqueue.checkSize(q, maxSizes[q], qs.size());
                if (qs.ready() && qs.eventIdx() != eventIdx) {
                    throw new VirtqueueException(q, "eventIdx=" + qs.eventIdx() + " disagrees with negotiated features");
                }
                if (live && qs.ready()) restored[q] = Virtqueue.create(q, maxSizes[q], qs, indirect, memory);
            } catch (VirtqueueException e) {
                throw new DeviceStateException("failed to restore " + e.getMessage());
            }
        }

        // Valid: apply.
        if (activated) device.reset();
        clearRegisters();
        status = st & ~DeviceStatus.DEVICE_NEEDS_RESET;
        broken = (st & DeviceStatus.DEVICE_NEEDS_RESET) != 0;
        deviceFeaturesSel = s.deviceFeaturesSel();
        driverFeaturesSel = s.driverFeaturesSel();
        driverFeatures = s.driverFeatures();
        queueSel = s.queueSelect();
        for (int q = 0; q < queueCount; q++) {
            QueueState qs = s.queues().get(q);
            QueueRegisters r = queueRegs[q];
            r.size = qs.size();
            r.ready = qs.ready();
            r.desc = qs.descAddr();
            r.driver = qs.driverAddr();
            r.device = qs.deviceAddr();
        }
        synchronized (irqLock) {
            interruptStatus = s.interruptStatus();
            configGeneration = s.configGeneration();
            irqLevel = interruptStatus == 0; // force the line to be driven from the restored state
            updateLineLocked();
        }
        if (live) startDevice(restored);
    }

    /** Whether the device was marked DEVICE_NEEDS_RESET. */
    public boolean isBroken() {
        return broken;
    }

    public VirtioDevice device() {
        return device;
    }

    @Override
    public String toString() {
        return name;
    }

    private void writeStatus(int v) {
        if (v == 0) {
            resetDevice();
            return;
        }
        int requested = v & ~DeviceStatus.DEVICE_NEEDS_RESET; // device-owned bit
        if ((status & ~requested) != 0) {
            illegal("status 0x" + Integer.toHexString(v) + " clears bits of 0x" + Integer.toHexString(status) + " (only a reset may)");
            return;
        }
        if (!DeviceStatus.ordered(requested)) {
            illegal("status 0x" + Integer.toHexString(v) + " skips a step of the initialisation sequence");
            return;
        }
        int added = requested & ~status;
        if ((added & DeviceStatus.FEATURES_OK) != 0 && !featuresAcceptable()) {
            requested &= ~(DeviceStatus.FEATURES_OK | DeviceStatus.DRIVER_OK); // the driver reads back and gives up
            added &= ~(DeviceStatus.FEATURES_OK | DeviceStatus.DRIVER_OK);
        }
        status = requested;
        if ((added & DeviceStatus.DRIVER_OK) != 0 && (status & DeviceStatus.FAILED) == 0) activate();
    }

    private boolean featuresAcceptable() {
        long unoffered = driverFeatures & ~offeredFeatures;
        if (unoffered != 0 || unknownFeaturesWritten) {
            illegal("FEATURES_OK refused: driver accepted features 0x" + Long.toHexString(unoffered) + " that were not offered");
            return false;
        }
        if (!VirtioFeatures.has(driverFeatures, VirtioFeatures.VERSION_1)) {
            illegal("FEATURES_OK refused: driver did not accept VERSION_1 (legacy drivers are not supported)");
            return false;
        }
        return true;
    }

    private void activate() {
        boolean indirect = VirtioFeatures.has(driverFeatures, VirtioFeatures.RING_INDIRECT_DESC);
        boolean eventIdx = VirtioFeatures.has(driverFeatures, VirtioFeatures.RING_EVENT_IDX);
        Virtqueue[] queues = new Virtqueue[queueCount];
        try {
            for (int q = 0; q < queueCount; q++) {
                QueueRegisters r = queueRegs[q];
                if (!r.ready) continue;
                queues[q] = Virtqueue.create(q, maxSizes[q],
                        new QueueState(r.size, true, r.desc, r.driver, r.device, 0, 0, eventIdx), indirect, memory);
            }
        } catch (VirtqueueException e) {
            signals.deviceBroken(e);
            return;
        }
        startDevice(queues);
    }

    private void startDevice(Virtqueue[] queues) {
        liveQueues = queues;
        activated = true;
        try {
            device.activate(new ActivationContext(memory, queues, driverFeatures, signals));
        } catch (RuntimeException e) {
            signals.deviceBroken(e);
        }
    }

    private void resetDevice() {
        if (activated) {
            try {
                device.reset();
            } catch (RuntimeException e) {
                LOG.error("{}: device reset failed", name, e);
            }
        }
        clearRegisters();
        broken = false;
        synchronized (irqLock) {
            interruptStatus = 0;
            updateLineLocked();
        }
    }

    private void clearRegisters() {
        status = 0;
        deviceFeaturesSel = 0;
        driverFeaturesSel = 0;
        driverFeatures = 0;
        unknownFeaturesWritten = false;
        queueSel = 0;
        queueRegs = new QueueRegisters[queueCount];
        for (int q = 0; q < queueCount; q++) queueRegs[q] = new QueueRegisters(maxSizes[q]);
        liveQueues = new Virtqueue[queueCount];
        activated = false;
    }

    private void writeDriverFeatures(int v) {
        if ((status & DeviceStatus.DRIVER) == 0 || (status & DeviceStatus.FEATURES_OK) != 0) {
            illegal("DriverFeatures written outside feature negotiation (status 0x" + Integer.toHexString(status) + ")");
            return;
        }
        long word = Integer.toUnsignedLong(v);
        switch (driverFeaturesSel) {
            case 0 -> driverFeatures = (driverFeatures & 0xFFFF_FFFF_0000_0000L) | word;
            case 1 -> driverFeatures = (driverFeatures & 0xFFFF_FFFFL) | (word << 32);
            default -> {
                if (v != 0) unknownFeaturesWritten = true; // nothing is offered there
            }
        }
    }

    private QueueRegisters selectedQueue() {
        return queueSel >= 0 && queueSel < queueCount ? queueRegs[queueSel] : null;
    }

    /** The selected queue if its configuration may be written now, else null (logged). */
    private QueueRegisters queueForSetup(String register) {
        QueueRegisters q = selectedQueue();
        if (q == null) {
            illegal(register + " written for queue " + queueSel + ", device has " + queueCount);
        } else if ((status & DeviceStatus.FEATURES_OK) == 0 || (status & DeviceStatus.DRIVER_OK) != 0) {
            illegal(register + " written in status 0x" + Integer.toHexString(status) + " (queues are set up between FEATURES_OK and DRIVER_OK)");
            q = null;
        } else if (q.ready) {
            illegal(register + " written while queue " + queueSel + " is ready");
            q = null;
        }
        return q;
    }

    private void writeQueueReady(int v) {
        QueueRegisters q = selectedQueue();
        if (q == null || (status & DeviceStatus.FEATURES_OK) == 0 || (status & DeviceStatus.DRIVER_OK) != 0) {
            // Disabling a live queue needs VIRTIO_F_RING_RESET, which we do not offer.
            illegal("QueueReady=" + v + " for queue " + queueSel + " in status 0x" + Integer.toHexString(status));
            return;
        }
        q.ready = (v & 1) != 0;
    }

    private void writeQueueAddress(int offset, int v) {
        QueueRegisters q = queueForSetup("queue address 0x" + Integer.toHexString(offset));
        if (q == null) return;
        long word = Integer.toUnsignedLong(v);
        switch (offset) {
            case QUEUE_DESC_LOW -> q.desc = low(q.desc, word);
            case QUEUE_DESC_HIGH -> q.desc = high(q.desc, word);
            case QUEUE_DRIVER_LOW -> q.driver = low(q.driver, word);
            case QUEUE_DRIVER_HIGH -> q.driver = high(q.driver, word);
            case QUEUE_DEVICE_LOW -> q.device = low(q.device, word);
            case QUEUE_DEVICE_HIGH -> q.device = high(q.device, word);
            default -> throw new AssertionError(offset);
        }
    }

    private static long low(long old, long word) {
        return (old & 0xFFFF_FFFF_0000_0000L) | word;
    }

    private static long high(long old, long word) {
        return (old & 0xFFFF_FFFFL) | (word << 32);
    }

    private void notifyQueue(int q) {
        if (!activated || broken) {
            if (!broken) illegal("QueueNotify before DRIVER_OK");
            return;
        }
        if (q < 0 || q >= queueCount || liveQueues[q] == null) {
            illegal("QueueNotify for queue " + q + " which is not enabled");
            return;
        }
        try {
            device.queueNotify(q);
        } catch (VirtqueueException | RuntimeException e) {
            signals.deviceBroken(e);
        }
    }

    private int visibleStatus() {
        return status | (broken ? DeviceStatus.DEVICE_NEEDS_RESET : 0);
    }

    private void updateLineLocked() {
        boolean level = interruptStatus != 0;
        if (level != irqLevel) {
            irqLevel = level;
            irq.set(level);
        }
    }

    private void illegal(String what) {
        // A hostile guest could repeat this forever: warn a few times, then only at debug.
        if (warnings < MAX_WARNINGS) {
            warnings++;
            LOG.warn("{}: ignored illegal access: {}", name, what);
        } else {
            LOG.debug("{}: ignored illegal access: {}", name, what);
        }
    }

    /** The device's way back to the guest; see {@link VirtioSignals}. Callable from any thread. */
    private final class Signals implements VirtioSignals {
        @Override
        public void usedBuffers(Virtqueue queue) {
            if (broken || !queue.needsInterrupt()) return;
            raise(INT_USED_BUFFER);
        }

        @Override
        public void configChanged() {
            synchronized (irqLock) {
                configGeneration++;
                interruptStatus |= INT_CONFIG_CHANGE;
                updateLineLocked();
            }
        }

        @Override
        public void deviceBroken(Exception cause) {
            if (broken) return;
            broken = true;
            LOG.warn("{}: device marked DEVICE_NEEDS_RESET: {}", name, cause.toString());
            raise(INT_CONFIG_CHANGE);
        }

        @Override
        public boolean isBroken() {
            return broken;
        }

        private void raise(int bit) {
            synchronized (irqLock) {
                interruptStatus |= bit;
                updateLineLocked();
            }
        }
    }
}
