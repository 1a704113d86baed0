package io.jremus.vmm.vcpu;

/**
 * Where a vCPU thread sends the exits KVM hands to user space: port I/O and MMIO. Implemented by
 * the machine, which routes them to its buses. Called on the exiting vCPU's thread; values are
 * little-endian and {@code size} is 1, 2, 4 (PIO) or up to 8 (MMIO).
 */
public interface ExitHandler {
    long pioIn(int port, int size);

    void pioOut(int port, int size, long value);

    long mmioRead(long address, int size);

    void mmioWrite(long address, int size, long value);
}
