package io.jremus.vmm.devices.virtio;

/**
 * A virtio device model (net, block, ...) behind a transport. The transport owns the register
 * file, feature negotiation and queue setup; the device says what it is and does the work.
 *
 * <p>Threading: every method is called on a vCPU thread with the transport's lock held, so no
 * two of them run at once. A device may hand work to its own threads after {@link #activate};
 * those threads signal the guest through {@link ActivationContext#signals()} and must be stopped
 * by {@link #reset()} before it returns (after which no signal may be sent). The transport holds
 * no lock of its own while a worker signals, so stopping a worker from {@code reset} cannot deadlock.
 *
 * <p>Lifecycle: {@code activate} (DRIVER_OK) → any number of {@code queueNotify} → {@code reset}
 * (driver writes status 0, or a restore replaces the state) → possibly {@code activate} again.
 */
public interface VirtioDevice {
    /** Virtio device ID (1 = net, 2 = block, ...). */
    int deviceType();

    /** Device-specific feature bits offered (0-23, plus any other bit it implements). The transport adds {@link VirtioFeatures#TRANSPORT_OFFERED}. */
    long deviceFeatures();

    int queueCount();

    /** Largest size the device accepts for queue {@code queue}: a power of 2 ≤ {@link Virtqueue#MAX_SIZE}. */
    int queueMaxSize(int queue);

    /** Reads {@code size} bytes at {@code offset} into the device config space; out of range reads 0. */
    long readConfig(int offset, int size);

    /** Writes config space; read-only or out-of-range fields are ignored. */
    void writeConfig(int offset, int size, long value);

    /** The driver is ready: start serving the context's queues. */
    void activate(ActivationContext context);

    /**
     * The driver made buffers available on {@code queue} (enabled, device active and not broken).
     *
     * @throws VirtqueueException if the guest's ring is malformed; the transport marks the device broken
     */
    void queueNotify(int queue) throws VirtqueueException;

    /** Back to the just-constructed state: stop workers, forget the queues and the context. */
    void reset();
}
