package io.jremus.vmm.devices;

/**
 * What a guest can ask of the machine itself: power off (with an exit status, for tests) or
 * reset. Implemented by the VM; called from a vCPU thread by the device the guest used.
 */
public interface PowerControl {
    void powerOff(int exitCode);

    void reset();
}
