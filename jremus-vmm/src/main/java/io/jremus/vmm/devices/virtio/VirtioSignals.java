package io.jremus.vmm.devices.virtio;

/**
 * How an active device talks back to its transport, from any thread (a vCPU thread in
 * queueNotify, or the device's own worker, e.g. the net RX epoll thread). Each call updates
 * InterruptStatus and drives the interrupt line under one lock, so a signal from a worker and
 * an InterruptACK from a vCPU cannot leave the line high with nothing pending, or low with
 * something pending.
 */
public interface VirtioSignals {
    /**
     * Used buffers were added to {@code queue}: if the driver wants to hear of it
     * ({@link Virtqueue#needsInterrupt()}), sets InterruptStatus bit 0 and raises the line.
     * Call from the thread that owns the queue, after a batch of {@code addUsed}.
     */
    void usedBuffers(Virtqueue queue);

    /** The config space changed: bumps ConfigGeneration, sets bit 1 and raises the line. */
    void configChanged();

    /**
     * The guest broke the protocol (typically a {@link VirtqueueException}): the transport sets
     * DEVICE_NEEDS_RESET, raises a config-change interrupt and stops forwarding notifications
     * until the driver resets the device. The calling thread should stop processing; other
     * device threads should check {@link #isBroken()} before each unit of work.
     */
    void deviceBroken(Exception cause);

    boolean isBroken();
}
