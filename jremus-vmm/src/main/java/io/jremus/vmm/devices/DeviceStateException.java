package io.jremus.vmm.devices;

/**
 * A saved device state (from a checkpoint stream or a snapshot file) that cannot become a live
 * device: a value out of range or inconsistent with the device it is restored into. Restored
 * state is untrusted input (architecture invariant 6); the message names the field and values,
 * e.g. "failed to restore queue 1: size 512 exceeds max 256". When it is thrown the device has
 * not been changed, so the caller can discard the checkpoint and keep its committed state.
 */
public final class DeviceStateException extends Exception {
    public DeviceStateException(String message) {
        super(message);
    }
}
