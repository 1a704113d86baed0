package io.jremus.vmm.devices.acpi;

import io.jremus.vmm.MachineLayout;
import io.jremus.vmm.devices.PioDevice;
import io.jremus.vmm.devices.PowerControl;

/**
 * The hardware-reduced ACPI sleep and reset registers the FADT points at, as three one-byte I/O
 * ports ({@link MachineLayout#ACPI_SLEEP_CONTROL_PORT}, {@code _STATUS_PORT}, {@code ACPI_RESET_PORT}).
 * Register it for {@link #PORT_COUNT} ports from {@link #PORT_BASE}.
 *
 * <p>Linux powers off by writing {@code SLP_EN | SLP_TYP << 2} to the control register, with
 * SLP_TYP taken from the DSDT's \_S5 package; jremus chose {@link #SLP_TYP_S5} = 5 for both. That
 * write calls {@link PowerControl#powerOff(int)} with status 0. Other sleep types are ignored: the
 * DSDT offers no other state, and suspend would need wake support jremus does not have. Writing
 * {@link #RESET_VALUE} to the reset register calls {@link PowerControl#reset()}. The status register
 * always reads 0 (WAK_STS clear: nothing ever wakes from a sleep we never enter).
 */
public final class AcpiSleepDevice implements PioDevice {
    public static final int PORT_BASE = MachineLayout.ACPI_SLEEP_CONTROL_PORT;
    public static final int PORT_COUNT = 3;
    /** SLP_TYP value for S5 (soft off), shared with the DSDT's \_S5 package. */
    public static final int SLP_TYP_S5 = 5;
    /** ACPI 6.x 4.8.3.7: SLP_TYPx in bits 4:2, SLP_EN in bit 5 of the sleep control register. */
    static final int SLP_TYP_SHIFT = 2;
    static final int SLP_TYP_MASK = 0x7;
    static final int SLP_EN = 1 << 5;
    /** The byte the FADT tells the guest to write to RESET_REG. */
    public static final int RESET_VALUE = 0x01;

    private final PowerControl power;

    public AcpiSleepDevice(PowerControl power) {
        this.power = power;
    }

    @Override
    public long read(int port, int size) {
        return 0;
    }

    /** {@code port} is the offset from {@link #PORT_BASE}, as {@code PioBus} dispatches. */
    @Override
    public void write(int port, int size, long value) {
        int b = (int) (value & 0xFF);
        int absolute = PORT_BASE + port;
        if (absolute == MachineLayout.ACPI_SLEEP_CONTROL_PORT) {
            if ((b & SLP_EN) != 0 && ((b >>> SLP_TYP_SHIFT) & SLP_TYP_MASK) == SLP_TYP_S5) {
                power.powerOff(0);
            }
        } else if (absolute == MachineLayout.ACPI_RESET_PORT && b == RESET_VALUE) {
            power.reset();
        }
        // The status port is write-1-to-clear WAK_STS, which is never set: nothing to do.
    }
}
