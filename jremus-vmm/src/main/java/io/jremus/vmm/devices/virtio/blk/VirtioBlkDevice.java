package io.jremus.vmm.devices.virtio.blk;

import io.jremus.vmm.devices.DeviceStateException;
import io.jremus.vmm.devices.virtio.ActivationContext;
import io.jremus.vmm.devices.virtio.ConfigSpace;
import io.jremus.vmm.devices.virtio.DescriptorChain;
import io.jremus.vmm.devices.virtio.VirtioDevice;
import io.jremus.vmm.devices.virtio.VirtioFeatures;
import io.jremus.vmm.devices.virtio.Virtqueue;
import io.jremus.vmm.devices.virtio.VirtqueueException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A virtio block device (type 2) over a {@link BlockBackend}, normally a {@link RawImageFile}.
 * One request queue; requests IN, OUT, FLUSH and GET_ID (others get S_UNSUPP). Offers
 * BLK_SIZE (512), SEG_MAX, FLUSH and, for a read-only image, RO.
 *
 * <p>Durability: a FLUSH is acknowledged only after fdatasync returned. If the driver does not
 * accept FLUSH it believes the disk has no volatile cache, so every write is then made durable
 * before it completes (write-through).
 *
 * <p>Threading: requests are served synchronously on the vCPU thread that wrote QueueNotify,
 * under the transport's lock. Simple and correct; moving them to an I/O thread (so a slow disk
 * does not stall a vCPU) is a later optimisation and would have to follow the transport's rule
 * that {@link #reset()} stops the worker before it returns.
 *
 * <p>Replication hook: every completed write and flush is reported to the
 * {@link BlockWriteListener} before the guest sees its status.
 *
 * <p>The device owns its backend and closes it in {@link #close()}.
 */
public final class VirtioBlkDevice implements VirtioDevice, AutoCloseable {
    /** Queue size offered; requests may use all but two descriptors (header and status) for data. */
    public static final int QUEUE_SIZE = 256;
    static final int SEG_MAX = QUEUE_SIZE - 2;

    private final BlockBackend backend;
    private final String serial;
    private final long offered;
    private final byte[] config = new byte[VirtioBlk.CONFIG_LENGTH];
    private final Arena arena = Arena.ofShared();
    private final BlockRequestHandler handler;
    private DescriptorChain chain;
    private ActivationContext context;
    private long ackedFeatures;

    /**
     * @param backend the storage; owned by the device from now on
     * @param serial  the GET_ID string (ASCII, at most 20 bytes), or null to derive one from the backend's id
     */
    public VirtioBlkDevice(BlockBackend backend, String serial) {
        this.backend = backend;
        this.serial = serial != null ? checkSerial(serial) : defaultSerial(backend.id());
        this.offered = VirtioBlk.F_BLK_SIZE | VirtioBlk.F_SEG_MAX | VirtioBlk.F_FLUSH
                | (backend.readOnly() ? VirtioBlk.F_RO : 0);
        long capacity = backend.sizeBytes() >>> VirtioBlk.SECTOR_SHIFT;
        ConfigSpace.write(config, VirtioBlk.CONFIG_CAPACITY, 8, capacity);
        ConfigSpace.write(config, VirtioBlk.CONFIG_SEG_MAX, 4, SEG_MAX);
        ConfigSpace.write(config, VirtioBlk.CONFIG_BLK_SIZE, 4, VirtioBlk.SECTOR_SIZE);
        this.handler = new BlockRequestHandler(backend, this.serial.getBytes(StandardCharsets.US_ASCII), QUEUE_SIZE,
                "virtio-blk(" + backend.id() + ")", arena);
    }

    /** Opens the raw image at {@code image} (read-only if asked) with a serial derived from its file name. */
    public static VirtioBlkDevice open(Path image, boolean readOnly) throws IOException {
        return new VirtioBlkDevice(RawImageFile.open(image, readOnly), null);
    }

    /**
     * Rebuilds a device from saved state over {@code backend} (opened by the caller from the
     * VM's config), after checking that the state describes this disk.
     *
     * @throws DeviceStateException if the state is inconsistent with the backend or malformed;
     *                              the backend is then left open for the caller
     */
    public static VirtioBlkDevice restore(BlockBackend backend, VirtioBlkState s) throws DeviceStateException {
        long capacity = backend.sizeBytes() >>> VirtioBlk.SECTOR_SHIFT;
        if (s.capacitySectors() != capacity) {
            throw new DeviceStateException("failed to restore virtio-blk " + s.imageId() + ": capacity "
                    + s.capacitySectors() + " sectors, but image " + backend.id() + " has " + capacity);
        }
        if (s.readOnly() != backend.readOnly()) {
            throw new DeviceStateException("failed to restore virtio-blk " + s.imageId() + ": saved read-only="
                    + s.readOnly() + ", image " + backend.id() + " read-only=" + backend.readOnly());
        }
        if (s.serial() == null || !StandardCharsets.US_ASCII.newEncoder().canEncode(s.serial())
                || s.serial().length() > VirtioBlk.ID_BYTES) {
            throw new DeviceStateException("failed to restore virtio-blk " + s.imageId() + ": serial is not ASCII of at most 20 bytes");
        }
        VirtioBlkDevice d = new VirtioBlkDevice(backend, s.serial());
        long unoffered = s.ackedFeatures() & ~d.offered;
        if (unoffered != 0) {
            throw new DeviceStateException("failed to restore virtio-blk " + s.imageId() + ": features 0x"
                    + Long.toHexString(unoffered) + " were not offered");
        }
        d.ackedFeatures = s.ackedFeatures();
        return d;
    }

    /** The device's state; call with the vCPUs paused (requests are served on them). */
    public synchronized VirtioBlkState save() {
        return new VirtioBlkState(backend.id(), backend.sizeBytes() >>> VirtioBlk.SECTOR_SHIFT, backend.readOnly(),
                serial, ackedFeatures);
    }

    /** Installs the replication hook (null for none); takes effect from the next request. */
    public void setWriteListener(BlockWriteListener listener) {
        handler.listener(listener);
    }

    /** The listener installed now ({@link BlockWriteListener#NONE} if none). */
    public BlockWriteListener writeListener() {
        return handler.listener();
    }

    public String serial() {
        return serial;
    }

    public long capacitySectors() {
        return backend.sizeBytes() >>> VirtioBlk.SECTOR_SHIFT;
    }

    @Override
    public int deviceType() {
        return VirtioBlk.DEVICE_TYPE;
    }

    @Override
    public long deviceFeatures() {
        return offered;
    }

    @Override
    public int queueCount() {
        return 1;
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
        // Nothing in our config space is writable (no CONFIG_WCE).
    }

    @Override
    public synchronized void activate(ActivationContext ctx) {
        if (!ctx.memory().regions().getFirst().host().isNative()) {
            throw new IllegalStateException("virtio-blk needs guest RAM in native memory (it hands addresses to the kernel)");
        }
        context = ctx;
        ackedFeatures = ctx.features() & offered;
        Virtqueue q = ctx.queue(0);
        chain = q == null ? null : q.newChain();
    }

    @Override
    public synchronized void queueNotify(int queue) throws VirtqueueException {
        ActivationContext ctx = context;
        Virtqueue q = ctx == null ? null : ctx.queue(queue);
        if (q == null || queue != 0) return;
        boolean writeThrough = !VirtioFeatures.has(ctx.features(), VirtioBlk.F_FLUSH);
        boolean used = false;
        try {
            while (q.pop(chain)) {
                long written = handler.handle(ctx.memory(), chain, queue, writeThrough);
                q.addUsed(chain.head(), written);
                used = true;
            }
        } finally {
            // Chains completed before a bad one still get their interrupt.
            if (used) ctx.signals().usedBuffers(q);
        }
    }

    @Override
    public synchronized void reset() {
        context = null;
        chain = null;
        ackedFeatures = 0;
    }

    @Override
    public synchronized void close() {
        backend.close();
    }

    private static String checkSerial(String s) {
        if (!StandardCharsets.US_ASCII.newEncoder().canEncode(s) || s.length() > VirtioBlk.ID_BYTES) {
            throw new IllegalArgumentException("virtio-blk serial must be ASCII of at most 20 bytes: '" + s + "'");
        }
        return s;
    }

    /** The id's last 20 printable-ASCII characters (the end of a file name is the distinctive part). */
    static String defaultSerial(String id) {
        StringBuilder b = new StringBuilder();
        for (char c : id.toCharArray()) if (c > 0x20 && c < 0x7f) b.append(c);
        return b.length() <= VirtioBlk.ID_BYTES ? b.toString() : b.substring(b.length() - VirtioBlk.ID_BYTES);
    }
}
