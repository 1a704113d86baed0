package io.jremus.vmm.devices.virtio;

import io.jremus.vmm.memory.GuestMemory;

/**
 * What a device gets when the driver sets DRIVER_OK: guest memory, the live queues, the
 * negotiated features and the way to signal the guest. Valid until the device's
 * {@link VirtioDevice#reset()} returns; do not keep it beyond that.
 */
public final class ActivationContext {
    private final GuestMemory memory;
    private final Virtqueue[] queues;
    private final long features;
    private final VirtioSignals signals;

    ActivationContext(GuestMemory memory, Virtqueue[] queues, long features, VirtioSignals signals) {
        this.memory = memory;
        this.queues = queues.clone();
        this.features = features;
        this.signals = signals;
    }

    public GuestMemory memory() {
        return memory;
    }

    public int queueCount() {
        return queues.length;
    }

    /** Queue {@code i}, or null if the driver did not enable it (QueueReady was 0). */
    public Virtqueue queue(int i) {
        return queues[i];
    }

    /** Features the driver accepted (including the transport's VERSION_1 and ring bits). */
    public long features() {
        return features;
    }

    public VirtioSignals signals() {
        return signals;
    }
}
