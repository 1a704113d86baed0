package io.jremus.vmm.devices.debugexit;

import io.jremus.vmm.devices.PioDevice;
import io.jremus.vmm.devices.PowerControl;

/**
 * A test hook at {@link io.jremus.vmm.MachineLayout#DEBUG_EXIT_PORT}: the guest writes a value
 * and the VM powers off with that value as its exit status. Our tests' guests use it to report
 * pass/fail without a console parser.
 *
 * <p>Difference from QEMU's {@code isa-debug-exit}: QEMU exits with {@code (v << 1) | 1}, so
 * that status 0 cannot be produced by the guest; we pass {@code v} through unchanged (masked to
 * the access size), so a guest writing 0 makes a clean exit. Guests built for both must map
 * the status themselves. Reads return 0.
 */
public final class DebugExit implements PioDevice {
    /** Four ports, like QEMU's {@code iosize=4}, so a 32-bit {@code outl} is claimed too. */
    public static final int PORT_COUNT = 4;

    private final PowerControl power;

    public DebugExit(PowerControl power) {
        this.power = power;
    }

    @Override
    public long read(int port, int size) {
        return 0;
    }

    @Override
    public void write(int port, int size, long value) {
        power.powerOff((int) value);
    }

    @Override
    public String toString() {
        return "DebugExit";
    }
}
