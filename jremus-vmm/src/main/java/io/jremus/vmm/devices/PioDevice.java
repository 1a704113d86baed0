package io.jremus.vmm.devices;

/**
 * A device on the x86 port-I/O bus. Called on the vCPU thread that exited; implementations
 * that share state with other threads synchronise themselves. {@code port} is relative to the
 * base the device was registered at on the {@link io.jremus.vmm.devices.bus.PioBus}, as
 * {@code offset} is for {@link MmioDevice}.
 */
public interface PioDevice {
    /** An {@code in} of {@code size} (1, 2 or 4) bytes at {@code port}; unused bits are ignored. */
    long read(int port, int size);

    /** An {@code out} of {@code size} bytes at {@code port}. */
    void write(int port, int size, long value);
}
