package io.jremus.vmm.devices;

/**
 * A device in guest-physical MMIO space. {@code offset} is relative to the device's base.
 * Called on the vCPU thread that exited; sizes are 1, 2, 4 or 8.
 */
public interface MmioDevice {
    long read(long offset, int size);

    void write(long offset, int size, long value);
}
