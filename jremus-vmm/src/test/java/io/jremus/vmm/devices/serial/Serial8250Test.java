package io.jremus.vmm.devices.serial;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jremus.vmm.devices.DeviceStateException;
import io.jremus.vmm.devices.RecordingLine;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class Serial8250Test {
    private final ByteArrayOutputStream sink = new ByteArrayOutputStream();
    private final RecordingLine irq = new RecordingLine();
    private final Serial8250 uart = new Serial8250(sink, irq);

    private void out(int reg, int v) {
        uart.write(reg, 1, v);
    }

    private int in(int reg) {
        return (int) uart.read(reg, 1);
    }

    private void type(String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        uart.queueInput(b, 0, b.length);
    }

    @Test
    void shouldWriteOutputBytesToTheSinkOnNewline() {
        for (byte b : "hi\n".getBytes(StandardCharsets.US_ASCII)) out(0, b);

        assertThat(sink.toString(StandardCharsets.US_ASCII)).isEqualTo("hi\n");
    }

    @Test
    void shouldHoldAPartialLineUntilFlushed() {
        out(0, '#');
        out(0, ' ');
        assertThat(sink.size()).isZero();

        uart.flush();
        assertThat(sink.toString(StandardCharsets.US_ASCII)).isEqualTo("# ");
    }

    @Test
    void shouldAlwaysReportTransmitterEmptyAndDataReadyOnlyWhenInputWaits() {
        assertThat(in(5)).isEqualTo(0x60);
        type("x");
        assertThat(in(5)).isEqualTo(0x61);
        assertThat(in(0)).isEqualTo('x');
        assertThat(in(5)).isEqualTo(0x60);
    }

    @Test
    void shouldSwitchToDivisorLatchesWhenDlabIsSet() {
        out(3, 0x83);
        out(0, 0x01);
        out(1, 0x00);
        assertThat(in(0)).isEqualTo(0x01);
        assertThat(sink.size()).as("divisor write is not output").isZero();
        out(3, 0x03);
        out(1, 0x05);
        assertThat(in(1)).isEqualTo(0x05);
        out(3, 0x80);
        assertThat(in(0)).isEqualTo(0x01);
        assertThat(in(1)).isEqualTo(0x00);
    }

    @Test
    void shouldRaiseAndClearTheReceiveInterrupt() {
        out(1, 0x01); // IER: received data
        assertThat(irq.level()).isFalse();
        assertThat(in(2) & 0x0F).isEqualTo(0x01);

        type("ab");
        assertThat(irq.level()).isTrue();
        assertThat(in(2) & 0x0F).isEqualTo(0x04);

        assertThat(in(0)).isEqualTo('a');
        assertThat(irq.level()).isTrue();
        assertThat(in(0)).isEqualTo('b');
        assertThat(irq.level()).isFalse();
    }

    @Test
    void shouldNotRaiseTheReceiveInterruptWhenDisabled() {
        type("a");
        assertThat(irq.level()).isFalse();
        assertThat(irq.history).isEmpty();
    }

    @Test
    void shouldRaiseTheTransmitInterruptWhenEnabledAndClearItOnIirRead() {
        out(1, 0x02);
        assertThat(irq.level()).isTrue();
        assertThat(in(2) & 0x0F).isEqualTo(0x02);
        assertThat(irq.level()).isFalse();
        out(0, 'z');
        assertThat(irq.level()).as("THR empties at once, re-arming the interrupt").isTrue();
    }

    @Test
    void shouldReportFifosInIirAfterFcrEnable() {
        out(2, 0x07);
        assertThat(in(2)).isEqualTo(0xC1);
    }

    @Test
    void shouldLoopBackInLoopbackModeAsLinuxAutoconfigExpects() {
        out(4, 0x1A); // LOOP | OUT2 | RTS
        assertThat(in(6) & 0xF0).isEqualTo(0x90);
        out(0, 'q');
        assertThat(in(0)).isEqualTo('q');
        uart.flush();
        assertThat(sink.size()).isZero();
    }

    @Test
    void shouldLatchOverrunWhenInputOverflows() {
        byte[] lots = new byte[Serial8250.RX_FIFO_CAPACITY + 3];
        assertThat(uart.queueInput(lots, 0, lots.length)).isEqualTo(Serial8250.RX_FIFO_CAPACITY);
        assertThat(in(5) & 0x02).isEqualTo(0x02);
        assertThat(in(5) & 0x02).isZero();
    }

    @Test
    void shouldRoundTripSavedState() throws DeviceStateException {
        out(1, 0x01);
        out(7, 0x5A);
        type("xy");
        SerialState saved = uart.save();

        RecordingLine otherIrq = new RecordingLine();
        Serial8250 copy = new Serial8250(new ByteArrayOutputStream(), otherIrq);
        copy.restore(saved);

        assertThat(copy.save()).isEqualTo(saved);
        assertThat(otherIrq.level()).as("restored pending input raises the line").isTrue();
        assertThat(copy.read(0, 1)).isEqualTo('x');
    }

    @Test
    void shouldRejectRestoredStateOutOfRange() {
        SerialState bad = new SerialState(1, 0, 0x30, 3, 0, 0, 0, false, false, new byte[0]);
        assertThatThrownBy(() -> uart.restore(bad)).isInstanceOf(DeviceStateException.class)
                .hasMessage("failed to restore serial port: IER=0x30 has bits outside 0xf");
        SerialState tooMuch = new SerialState(1, 0, 0, 3, 0, 0, 0, false, false,
                new byte[Serial8250.RX_FIFO_CAPACITY + 1]);
        assertThatThrownBy(() -> uart.restore(tooMuch)).hasMessageContaining("exceed FIFO capacity");
    }
}
