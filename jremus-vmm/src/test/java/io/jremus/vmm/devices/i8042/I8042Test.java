package io.jremus.vmm.devices.i8042;

import static org.assertj.core.api.Assertions.assertThat;

import io.jremus.vmm.MachineLayout;
import io.jremus.vmm.devices.RecordingPower;
import io.jremus.vmm.devices.bus.PioBus;
import org.junit.jupiter.api.Test;

class I8042Test {
    private final RecordingPower power = new RecordingPower();
    private final PioBus bus = new PioBus().register(MachineLayout.I8042_DATA_PORT, I8042.PORT_COUNT, new I8042(power));

    private int status() {
        return (int) bus.read(MachineLayout.I8042_COMMAND_PORT, 1);
    }

    @Test
    void shouldResetTheMachineOnCommandFE() {
        // Linux reboot=k: wait for the input buffer to drain, then pulse the reset line.
        assertThat(status() & 0x02).isZero();
        bus.write(MachineLayout.I8042_COMMAND_PORT, 1, 0xFE);

        assertThat(power.resets).isEqualTo(1);
    }

    @Test
    void shouldResetWhenOutputPortBitZeroIsCleared() {
        bus.write(MachineLayout.I8042_COMMAND_PORT, 1, 0xD1);
        bus.write(MachineLayout.I8042_DATA_PORT, 1, 0xFE);

        assertThat(power.resets).isEqualTo(1);
    }

    @Test
    void shouldAnswerControllerCommandsSoProbingDoesNotTimeOut() {
        assertThat(status() & 0x01).as("output buffer empty at start").isZero();

        bus.write(MachineLayout.I8042_COMMAND_PORT, 1, 0xAA);
        assertThat(status() & 0x01).isEqualTo(1);
        assertThat(bus.read(MachineLayout.I8042_DATA_PORT, 1)).isEqualTo(0x55);

        bus.write(MachineLayout.I8042_COMMAND_PORT, 1, 0x60);
        bus.write(MachineLayout.I8042_DATA_PORT, 1, 0x45);
        bus.write(MachineLayout.I8042_COMMAND_PORT, 1, 0x20);
        assertThat(bus.read(MachineLayout.I8042_DATA_PORT, 1)).isEqualTo(0x45);

        bus.write(MachineLayout.I8042_COMMAND_PORT, 1, 0xD3);
        bus.write(MachineLayout.I8042_DATA_PORT, 1, 0x5A);
        assertThat(status() & 0x21).as("aux loopback byte is in the buffer, marked aux").isEqualTo(0x21);
        assertThat(bus.read(MachineLayout.I8042_DATA_PORT, 1)).isEqualTo(0x5A);
        assertThat(status() & 0x01).isZero();
        assertThat(power.resets).isZero();
    }
}
