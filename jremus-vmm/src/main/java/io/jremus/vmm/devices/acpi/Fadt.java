package io.jremus.vmm.devices.acpi;

import io.jremus.vmm.MachineLayout;

import java.nio.ByteBuffer;

/**
 * The FADT ("FACP"), revision 6.0, describing a hardware-reduced ACPI machine: no PM1/GPE
 * blocks, no SCI, no FACS; power-off through SLEEP_CONTROL_REG and reboot through RESET_REG,
 * both single-byte I/O ports served by {@link AcpiSleepDevice}. IAPC_BOOT_ARCH says an 8042
 * exists (jremus emulates one; its reset line is another way to reboot), there is no VGA and no
 * CMOS RTC (none is emulated, so Linux must not probe ports 0x70/0x71).
 */
final class Fadt {
    static final int LENGTH = 276;
    static final int REVISION = 6;
    static final int MINOR_REVISION = 0;

    static final int OFF_DSDT = 40;
    static final int OFF_IAPC_BOOT_ARCH = 109;
    static final int OFF_FLAGS = 112;
    static final int OFF_RESET_REG = 116;
    static final int OFF_RESET_VALUE = 128;
    static final int OFF_MINOR_VERSION = 131;
    static final int OFF_X_DSDT = 140;
    static final int OFF_SLEEP_CONTROL_REG = 244;
    static final int OFF_SLEEP_STATUS_REG = 256;
    static final int OFF_HYPERVISOR_VENDOR = 268;

    static final int FLAG_RESET_REG_SUP = 1 << 10;
    static final int FLAG_HW_REDUCED_ACPI = 1 << 20;
    static final int BOOT_ARCH_8042 = 1 << 1;
    static final int BOOT_ARCH_VGA_NOT_PRESENT = 1 << 2;
    static final int BOOT_ARCH_CMOS_RTC_NOT_PRESENT = 1 << 5;

    private static final int GAS_SYSTEM_IO = 1;
    private static final int GAS_ACCESS_BYTE = 1;

    private Fadt() {
    }

    static byte[] build(long dsdtAddress) {
        ByteBuffer t = Sdt.start("FACP", REVISION, LENGTH);
        t.putInt(OFF_DSDT, (int) dsdtAddress);
        t.putShort(OFF_IAPC_BOOT_ARCH, (short) (BOOT_ARCH_8042 | BOOT_ARCH_VGA_NOT_PRESENT | BOOT_ARCH_CMOS_RTC_NOT_PRESENT));
        t.putInt(OFF_FLAGS, FLAG_HW_REDUCED_ACPI | FLAG_RESET_REG_SUP);
        ioPort(t, OFF_RESET_REG, MachineLayout.ACPI_RESET_PORT);
        t.put(OFF_RESET_VALUE, (byte) AcpiSleepDevice.RESET_VALUE);
        t.put(OFF_MINOR_VERSION, (byte) MINOR_REVISION);
        t.putLong(OFF_X_DSDT, dsdtAddress);
        ioPort(t, OFF_SLEEP_CONTROL_REG, MachineLayout.ACPI_SLEEP_CONTROL_PORT);
        ioPort(t, OFF_SLEEP_STATUS_REG, MachineLayout.ACPI_SLEEP_STATUS_PORT);
        t.put(OFF_HYPERVISOR_VENDOR, Sdt.ascii("JREMUS", 8));
        return Sdt.finish(t);
    }

    /** A Generic Address Structure for one 8-bit I/O port. */
    private static void ioPort(ByteBuffer t, int offset, int port) {
        t.put(offset, (byte) GAS_SYSTEM_IO);
        t.put(offset + 1, (byte) 8);  // register bit width
        t.put(offset + 2, (byte) 0);  // bit offset
        t.put(offset + 3, (byte) GAS_ACCESS_BYTE);
        t.putLong(offset + 4, port);
    }
}
