package io.jremus.vmm.devices.virtio;

/** Bits of the virtio device status field, in the order a driver sets them. */
public final class DeviceStatus {
    private DeviceStatus() {
    }

    /** The guest found the device. */
    public static final int ACKNOWLEDGE = 0x01;
    /** The guest has a driver for it. */
    public static final int DRIVER = 0x02;
    /** The driver is set up and the device is live; the transport activates the device here. */
    public static final int DRIVER_OK = 0x04;
    /** Feature negotiation is complete (the device refuses by leaving this bit clear). */
    public static final int FEATURES_OK = 0x08;
    /** Set by the device: it hit an error it cannot recover from until the driver resets it. */
    public static final int DEVICE_NEEDS_RESET = 0x40;
    /** Set by the driver: it gave up on the device. */
    public static final int FAILED = 0x80;

    static final int ALL = ACKNOWLEDGE | DRIVER | DRIVER_OK | FEATURES_OK | DEVICE_NEEDS_RESET | FAILED;

    /** Whether every bit the status has implies its predecessor (DRIVER needs ACKNOWLEDGE, ...). */
    static boolean ordered(int s) {
        return ((s & DRIVER) == 0 || (s & ACKNOWLEDGE) != 0)
                && ((s & FEATURES_OK) == 0 || (s & DRIVER) != 0)
                && ((s & DRIVER_OK) == 0 || (s & FEATURES_OK) != 0);
    }
}
