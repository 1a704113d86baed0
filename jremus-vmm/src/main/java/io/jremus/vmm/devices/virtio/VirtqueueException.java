package io.jremus.vmm.devices.virtio;

/**
 * The guest broke the virtqueue protocol: a descriptor index out of range, a loop, a buffer
 * outside RAM, a ring misplaced. The message names the queue and the values, e.g.
 * "queue 1: descriptor 7 next=300 exceeds queue size 256". Whoever catches it marks the device
 * broken (DEVICE_NEEDS_RESET) through {@link VirtioSignals#deviceBroken}; the VMM carries on.
 * Checked, so that a device thread cannot forget the hostile-input path.
 */
public final class VirtqueueException extends Exception {
    private final int queue;

    public VirtqueueException(int queue, String detail) {
        super("queue " + queue + ": " + detail);
        this.queue = queue;
    }

    public int queue() {
        return queue;
    }
}
