package io.jremus.vmm.devices.debugexit;

import static org.assertj.core.api.Assertions.assertThat;

import io.jremus.vmm.MachineLayout;
import io.jremus.vmm.devices.RecordingPower;
import io.jremus.vmm.devices.bus.PioBus;
import org.junit.jupiter.api.Test;

class DebugExitTest {
    @Test
    void shouldPowerOffWithTheWrittenValueAsExitStatus() {
        RecordingPower power = new RecordingPower();
        PioBus bus = new PioBus().register(MachineLayout.DEBUG_EXIT_PORT, DebugExit.PORT_COUNT, new DebugExit(power));

        bus.write(MachineLayout.DEBUG_EXIT_PORT, 1, 0x31);

        assertThat(power.powerOffs).containsExactly(0x31);
    }
}
