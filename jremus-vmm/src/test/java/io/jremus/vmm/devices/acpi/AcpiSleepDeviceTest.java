package io.jremus.vmm.devices.acpi;

import io.jremus.vmm.MachineLayout;
import io.jremus.vmm.devices.PowerControl;
import io.jremus.vmm.devices.bus.PioBus;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class AcpiSleepDeviceTest {
    private final List<String> calls = new ArrayList<>();
    private final AcpiSleepDevice device = new AcpiSleepDevice(new PowerControl() {
        @Override
        public void powerOff(int exitCode) {
            calls.add("off " + exitCode);
        }

        @Override
        public void reset() {
            calls.add("reset");
        }
    });
    /** Driven through the bus the VM uses, so the port arithmetic is the real one. */
    private final PioBus bus = new PioBus().register(AcpiSleepDevice.PORT_BASE, AcpiSleepDevice.PORT_COUNT, device);

    @Test
    void shouldPowerOffWhenTheGuestEntersS5() {
        // what Linux's acpi_hw_extended_sleep writes: SLP_TYP (from \_S5) << 2 | SLP_EN
        bus.write(MachineLayout.ACPI_SLEEP_CONTROL_PORT, 1, (AcpiSleepDevice.SLP_TYP_S5 << 2) | 0x20);
        assertThat(calls).containsExactly("off 0");
    }

    @Test
    void shouldIgnoreSleepTypeWithoutSlpEnAndOtherSleepStates() {
        bus.write(MachineLayout.ACPI_SLEEP_CONTROL_PORT, 1, AcpiSleepDevice.SLP_TYP_S5 << 2);
        bus.write(MachineLayout.ACPI_SLEEP_CONTROL_PORT, 1, (3 << 2) | 0x20);
        bus.write(MachineLayout.ACPI_SLEEP_STATUS_PORT, 1, 0x80);
        assertThat(calls).isEmpty();
    }

    @Test
    void shouldResetOnlyOnTheResetValue() {
        bus.write(MachineLayout.ACPI_RESET_PORT, 1, 0x06);
        assertThat(calls).isEmpty();
        bus.write(MachineLayout.ACPI_RESET_PORT, 1, AcpiSleepDevice.RESET_VALUE);
        assertThat(calls).containsExactly("reset");
    }

    @Test
    void shouldReadStatusAsNotWaking() {
        assertThat(device.read(MachineLayout.ACPI_SLEEP_STATUS_PORT, 1)).isZero();
    }

    @Test
    void shouldCoverThePortsTheFadtNames() {
        assertThat(AcpiSleepDevice.PORT_BASE).isEqualTo(MachineLayout.ACPI_SLEEP_CONTROL_PORT);
        assertThat(AcpiSleepDevice.PORT_BASE + AcpiSleepDevice.PORT_COUNT - 1).isEqualTo(MachineLayout.ACPI_RESET_PORT);
    }
}
