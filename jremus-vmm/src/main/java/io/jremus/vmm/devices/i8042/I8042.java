package io.jremus.vmm.devices.i8042;

import io.jremus.vmm.devices.PioDevice;
import io.jremus.vmm.devices.PowerControl;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A minimal PS/2 controller (i8042) with no keyboard or mouse behind it. It exists so that
 * (1) a guest can reset the machine the PC way, command 0xFE to port 0x64 (Linux
 * {@code reboot=k}), or by clearing bit 0 of the output port (command 0xD1), and (2) Linux's
 * i8042 driver finds a controller that answers its commands promptly instead of waiting out
 * timeouts: the command byte (0x20/0x60), self-test (0xAA → 0x55), port tests (0xAB/0xA9 → 0),
 * port enable/disable, and the loopback commands 0xD2/0xD3 are answered. Bytes for the devices
 * themselves (0xD4, or data written to port 0x60 outside a command) get no answer, as from an
 * empty socket; guests should pass {@code i8042.noaux} to skip the mouse probe.
 *
 * <p>Register it at port 0x60 with {@link #PORT_COUNT} ports: offset 0 is the data port (0x60),
 * offset 4 the status/command port (0x64); offsets 1-3 (port 0x61 belongs to KVM's in-kernel PIT
 * speaker logic and never exits) read as all ones.
 *
 * <p>The controller raises no interrupts: nothing we run needs IRQ 1/12 from it. Thread-safe.
 */
public final class I8042 implements PioDevice {
    private static final Logger LOG = LoggerFactory.getLogger(I8042.class);

    public static final int PORT_COUNT = 5;
    static final int DATA = 0;
    static final int COMMAND = 4;

    // Status register bits.
    static final int STATUS_OBF = 0x01, STATUS_SYS = 0x04, STATUS_CMD = 0x08, STATUS_AUX_OBF = 0x20;
    // Command byte (CTR) bits.
    static final int CTR_SYS = 0x04, CTR_KBD_DISABLE = 0x10, CTR_AUX_DISABLE = 0x20;

    static final int CMD_READ_CTR = 0x20, CMD_WRITE_CTR = 0x60, CMD_AUX_DISABLE = 0xA7, CMD_AUX_ENABLE = 0xA8,
            CMD_AUX_TEST = 0xA9, CMD_SELF_TEST = 0xAA, CMD_KBD_TEST = 0xAB, CMD_KBD_DISABLE = 0xAD,
            CMD_KBD_ENABLE = 0xAE, CMD_WRITE_OUTPUT_PORT = 0xD1, CMD_KBD_LOOP = 0xD2, CMD_AUX_LOOP = 0xD3,
            CMD_WRITE_AUX = 0xD4, CMD_PULSE_RESET = 0xFE;

    private record OutByte(int value, boolean aux) {
    }

    private final PowerControl power;
    private final ArrayDeque<OutByte> output = new ArrayDeque<>();
    private int ctr = CTR_SYS | CTR_AUX_DISABLE; // interrupts off, keyboard enabled, no mouse in use
    private int pendingCommand = -1;
    private boolean lastWasCommand;

    public I8042(PowerControl power) {
        this.power = power;
    }

    @Override
    public synchronized long read(int port, int size) {
        return switch (port) {
            case DATA -> {
                OutByte b = output.poll();
                yield b == null ? 0 : b.value();
            }
            case COMMAND -> status();
            default -> 0xFF;
        };
    }

    @Override
    public synchronized void write(int port, int size, long value) {
        int v = (int) value & 0xFF;
        if (port == COMMAND) {
            lastWasCommand = true;
            command(v);
        } else if (port == DATA) {
            lastWasCommand = false;
            data(v);
        }
    }

    @Override
    public String toString() {
        return "I8042";
    }

    private int status() {
        int s = STATUS_SYS; // "self-test passed": set once the firmware has run, which ours has
        OutByte head = output.peek();
        if (head != null) s |= head.aux() ? STATUS_OBF | STATUS_AUX_OBF : STATUS_OBF;
        if (lastWasCommand) s |= STATUS_CMD;
        return s; // input buffer never full: commands complete at once
    }

    private void command(int cmd) {
        pendingCommand = -1;
        switch (cmd) {
            case CMD_READ_CTR -> reply(ctr, false);
            case CMD_WRITE_CTR, CMD_WRITE_OUTPUT_PORT, CMD_KBD_LOOP, CMD_AUX_LOOP, CMD_WRITE_AUX -> pendingCommand = cmd;
            case CMD_AUX_DISABLE -> ctr |= CTR_AUX_DISABLE;
            case CMD_AUX_ENABLE -> ctr &= ~CTR_AUX_DISABLE;
            case CMD_KBD_DISABLE -> ctr |= CTR_KBD_DISABLE;
            case CMD_KBD_ENABLE -> ctr &= ~CTR_KBD_DISABLE;
            case CMD_SELF_TEST -> reply(0x55, false);
            case CMD_KBD_TEST, CMD_AUX_TEST -> reply(0x00, false);
            case CMD_PULSE_RESET -> {
                LOG.info("guest reset the machine through the i8042 (command 0xFE)");
                power.reset();
            }
            default -> LOG.debug("i8042 command 0x{} ignored", Integer.toHexString(cmd));
        }
    }

    private void data(int v) {
        int cmd = pendingCommand;
        pendingCommand = -1;
        switch (cmd) {
            case CMD_WRITE_CTR -> ctr = v;
            case CMD_WRITE_OUTPUT_PORT -> {
                // Output port bit 0 is the CPU reset line, active low.
                if ((v & 0x01) == 0) {
                    LOG.info("guest reset the machine through the i8042 output port");
                    power.reset();
                }
            }
            case CMD_KBD_LOOP -> reply(v, false);
            case CMD_AUX_LOOP -> reply(v, true);
            default -> { } // to a keyboard or mouse that is not there
        }
    }

    private void reply(int value, boolean aux) {
        // A real controller holds one byte; keep a few so a confused guest cannot grow this.
        if (output.size() < 16) output.add(new OutByte(value, aux));
    }
}
