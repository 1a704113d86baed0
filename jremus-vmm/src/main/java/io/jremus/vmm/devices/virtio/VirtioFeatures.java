package io.jremus.vmm.devices.virtio;

/**
 * Feature bits defined by the virtio 1.x spec for every device (device-specific bits are
 * 0-23 and belong to each device). The transport offers {@link #TRANSPORT_OFFERED} itself,
 * because it implements them (the split ring), on top of what the device offers.
 */
public final class VirtioFeatures {
    private VirtioFeatures() {
    }

    /** The driver may use indirect descriptor tables. */
    public static final long RING_INDIRECT_DESC = 1L << 28;
    /** used_event / avail_event notification suppression. */
    public static final long RING_EVENT_IDX = 1L << 29;
    /** A modern (non-legacy) device; a driver that does not accept it is refused. */
    public static final long VERSION_1 = 1L << 32;

    public static final long TRANSPORT_OFFERED = RING_INDIRECT_DESC | RING_EVENT_IDX | VERSION_1;

    public static boolean has(long features, long bit) {
        return (features & bit) != 0;
    }
}
