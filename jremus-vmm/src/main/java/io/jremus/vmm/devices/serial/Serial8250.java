package io.jremus.vmm.devices.serial;

import io.jremus.vmm.devices.DeviceStateException;
import io.jremus.vmm.devices.InterruptLine;
import io.jremus.vmm.devices.PioDevice;
import java.io.Flushable;
import java.io.IOException;
import java.io.OutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A 16550A-compatible UART (the PC's COM1 at 0x3F8, IRQ 4), enough for Linux's 8250 driver
 * (autoconfig detects a 16550A, interrupt-driven TX and RX) and for a polled guest.
 *
 * <p>Transmission is instantaneous: THR and the transmitter are always empty (LSR.THRE|TEMT),
 * so a written byte goes straight to the output buffer and the "THR empty" interrupt re-arms at
 * once. Output is buffered and handed to the sink on a newline, when the buffer fills, or on
 * {@link #flush()}, which the VM calls every 50 ms (so prompts and partial lines appear) and
 * when it pauses the vCPUs. A failing sink is logged
 * once and further output dropped: the console must never stop the guest.
 *
 * <p>Input comes from the host on another thread through {@link #queueInput}; it is held in a
 * receive FIFO larger than the 16550's 16 bytes (harmless to drivers, kinder to pasted text).
 *
 * <p>The interrupt is a level derived from IIR: the line is high while any enabled source is
 * pending (line status, received data, THR empty); it is only driven when the level changes.
 * Modem status interrupts never occur (the modem lines never change unless in loopback).
 * MCR.OUT2 does not gate the line (the PC board wiring), since no guest we run relies on it.
 *
 * <p>Thread-safe: every entry point takes the instance lock.
 */
public final class Serial8250 implements PioDevice, Flushable {
    private static final Logger LOG = LoggerFactory.getLogger(Serial8250.class);

    /** Number of ports the UART decodes. */
    public static final int PORT_COUNT = 8;
    public static final int RX_FIFO_CAPACITY = 1024;
    private static final int OUT_BUFFER = 256;

    // Register offsets.
    static final int RBR_THR_DLL = 0, IER_DLM = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;

    // IER bits.
    static final int IER_RDI = 0x01, IER_THRI = 0x02, IER_RLSI = 0x04, IER_MASK = 0x0F;
    // IIR values (bit 0 set = nothing pending), FIFO bits.
    static final int IIR_NONE = 0x01, IIR_RLS = 0x06, IIR_RDI = 0x04, IIR_THRI = 0x02, IIR_FIFO = 0xC0;
    // FCR bits.
    static final int FCR_ENABLE = 0x01, FCR_CLEAR_RX = 0x02, FCR_PERSISTENT = 0xC1;
    static final int LCR_DLAB = 0x80;
    // MCR bits.
    static final int MCR_DTR = 0x01, MCR_RTS = 0x02, MCR_OUT1 = 0x04, MCR_OUT2 = 0x08, MCR_LOOP = 0x10, MCR_MASK = 0x1F;
    // LSR bits.
    static final int LSR_DR = 0x01, LSR_OE = 0x02, LSR_THRE = 0x20, LSR_TEMT = 0x40;
    // MSR bits: a terminal is attached (CTS, DSR, DCD asserted).
    static final int MSR_CTS = 0x10, MSR_DSR = 0x20, MSR_RI = 0x40, MSR_DCD = 0x80;

    private final OutputStream sink;
    private final InterruptLine irq;

    private int dll = 0x0C; // 9600 baud, the usual power-on divisor
    private int dlm;
    private int ier;
    private int lcr = 0x03; // 8N1
    private int mcr;
    private int fcr;
    private int scr;
    private boolean overrun;
    private boolean thrInterrupt;

    private final byte[] rx = new byte[RX_FIFO_CAPACITY];
    private int rxHead;
    private int rxCount;

    private final byte[] out = new byte[OUT_BUFFER];
    private int outCount;
    private boolean sinkFailed;
    private boolean irqLevel;

    /** @param sink where guest output goes (stdout, a log file); @param irq the UART's GSI. */
    public Serial8250(OutputStream sink, InterruptLine irq) {
        this.sink = sink;
        this.irq = irq;
    }

    @Override
    public synchronized long read(int port, int size) {
        long v = switch (port) {
            case RBR_THR_DLL -> (lcr & LCR_DLAB) != 0 ? dll : readRbr();
            case IER_DLM -> (lcr & LCR_DLAB) != 0 ? dlm : ier;
            case IIR_FCR -> readIir();
            case LCR -> lcr;
            case MCR -> mcr;
            case LSR -> readLsr();
            case MSR -> msr();
            case SCR -> scr;
            default -> 0xFF;
        };
        updateIrq();
        return v;
    }

    @Override
    public synchronized void write(int port, int size, long value) {
        int v = (int) value & 0xFF;
        switch (port) {
            case RBR_THR_DLL -> {
                if ((lcr & LCR_DLAB) != 0) dll = v;
                else transmit((byte) v);
            }
            case IER_DLM -> {
                if ((lcr & LCR_DLAB) != 0) {
                    dlm = v;
                } else {
                    // Enabling the THR-empty interrupt while THR is empty (always, here)
                    // raises it at once; Linux's start_tx and its THRE probe depend on that.
                    if ((v & IER_THRI) != 0 && (ier & IER_THRI) == 0) thrInterrupt = true;
                    ier = v & IER_MASK;
                }
            }
            case IIR_FCR -> {
                if ((v & FCR_CLEAR_RX) != 0 || ((v ^ fcr) & FCR_ENABLE) != 0) clearRx();
                fcr = v & FCR_PERSISTENT;
            }
            case LCR -> lcr = v;
            case MCR -> mcr = v & MCR_MASK;
            case SCR -> scr = v;
            default -> { } // LSR and MSR are read-only; writes to them are ignored, as on hardware
        }
        updateIrq();
    }

    /**
     * Queues bytes typed on the host console. Bytes beyond the FIFO's free space are dropped and
     * latch LSR.OE, as a real overrun would.
     *
     * @return how many bytes were accepted
     */
    public synchronized int queueInput(byte[] data, int offset, int length) {
        int accepted = Math.min(length, RX_FIFO_CAPACITY - rxCount);
        for (int i = 0; i < accepted; i++) pushRx(data[offset + i]);
        if (accepted < length) overrun = true;
        updateIrq();
        return accepted;
    }

    /** Free space in the receive FIFO, for a caller that would rather wait than drop input. */
    public synchronized int inputSpace() {
        return RX_FIFO_CAPACITY - rxCount;
    }

    /** Hands buffered output to the sink. */
    @Override
    public synchronized void flush() {
        if (outCount == 0) return;
        if (!sinkFailed) {
            try {
                sink.write(out, 0, outCount);
                sink.flush();
            } catch (IOException e) {
                sinkFailed = true;
                LOG.warn("serial output sink failed; further guest console output is dropped", e);
            }
        }
        outCount = 0;
    }

    /** The guest-visible state; output already written by the guest is flushed first. */
    public synchronized SerialState save() {
        flush();
        byte[] pending = new byte[rxCount];
        for (int i = 0; i < rxCount; i++) pending[i] = rx[(rxHead + i) % RX_FIFO_CAPACITY];
        return new SerialState(dll, dlm, ier, lcr, mcr, fcr, scr, overrun, thrInterrupt, pending);
    }

    /**
     * Replaces the state with a saved one after checking it; on error nothing changes.
     *
     * @throws DeviceStateException naming the first field out of range
     */
    public synchronized void restore(SerialState s) throws DeviceStateException {
        checkByte("DLL", s.divisorLow());
        checkByte("DLM", s.divisorHigh());
        checkBits("IER", s.ier(), IER_MASK);
        checkByte("LCR", s.lcr());
        checkBits("MCR", s.mcr(), MCR_MASK);
        checkBits("FCR", s.fcr(), FCR_PERSISTENT);
        checkByte("SCR", s.scratch());
        byte[] pending = s.rxFifo();
        if (pending.length > RX_FIFO_CAPACITY) {
            throw new DeviceStateException("failed to restore serial port: " + pending.length
                    + " pending input bytes exceed FIFO capacity " + RX_FIFO_CAPACITY);
        }
        flush();
        dll = s.divisorLow();
        dlm = s.divisorHigh();
        ier = s.ier();
        lcr = s.lcr();
        mcr = s.mcr();
        fcr = s.fcr();
        scr = s.scratch();
        overrun = s.overrun();
        thrInterrupt = s.thrInterrupt();
        rxHead = 0;
        rxCount = 0;
        for (byte b : pending) pushRx(b);
        // Drive the line from the restored state even if our cached level happens to agree.
        irqLevel = !pendingInterrupt();
        updateIrq();
    }

    @Override
    public String toString() {
        return "Serial8250";
    }

    private void transmit(byte b) {
        if ((mcr & MCR_LOOP) != 0) {
            // Loopback: the transmitter feeds the receiver and nothing leaves the UART.
            if (rxCount < RX_FIFO_CAPACITY) pushRx(b);
            else overrun = true;
        } else {
            out[outCount++] = b;
            if (b == '\n' || outCount == OUT_BUFFER) flush();
        }
        thrInterrupt = true; // the byte left THR at once, so THR is empty again
    }

    private int readRbr() {
        if (rxCount == 0) return 0;
        byte b = rx[rxHead];
        rxHead = (rxHead + 1) % RX_FIFO_CAPACITY;
        rxCount--;
        return b & 0xFF;
    }

    private int readIir() {
        int id = interruptId();
        // Reading IIR is how a driver acknowledges the THR-empty interrupt.
        if (id == IIR_THRI) thrInterrupt = false;
        return id | ((fcr & FCR_ENABLE) != 0 ? IIR_FIFO : 0);
    }

    private int readLsr() {
        int v = LSR_THRE | LSR_TEMT;
        if (rxCount > 0) v |= LSR_DR;
        if (overrun) v |= LSR_OE;
        overrun = false; // OE clears on read
        return v;
    }

    private int msr() {
        if ((mcr & MCR_LOOP) == 0) return MSR_DCD | MSR_DSR | MSR_CTS;
        // Loopback wires the modem outputs back to the inputs: Linux's autoconfig checks this.
        int v = 0;
        if ((mcr & MCR_RTS) != 0) v |= MSR_CTS;
        if ((mcr & MCR_DTR) != 0) v |= MSR_DSR;
        if ((mcr & MCR_OUT1) != 0) v |= MSR_RI;
        if ((mcr & MCR_OUT2) != 0) v |= MSR_DCD;
        return v;
    }

    /** The highest-priority pending, enabled source, as IIR encodes it. */
    private int interruptId() {
        if ((ier & IER_RLSI) != 0 && overrun) return IIR_RLS;
        if ((ier & IER_RDI) != 0 && rxCount > 0) return IIR_RDI;
        if ((ier & IER_THRI) != 0 && thrInterrupt) return IIR_THRI;
        return IIR_NONE;
    }

    private boolean pendingInterrupt() {
        return interruptId() != IIR_NONE;
    }

    private void updateIrq() {
        boolean level = pendingInterrupt();
        if (level != irqLevel) {
            irqLevel = level;
            irq.set(level);
        }
    }

    private void pushRx(byte b) {
        rx[(rxHead + rxCount) % RX_FIFO_CAPACITY] = b;
        rxCount++;
    }

    private void clearRx() {
        rxHead = 0;
        rxCount = 0;
    }

    private static void checkByte(String name, int v) throws DeviceStateException {
        checkBits(name, v, 0xFF);
    }

    private static void checkBits(String name, int v, int mask) throws DeviceStateException {
        if ((v & ~mask) != 0) {
            throw new DeviceStateException("failed to restore serial port: " + name + "=0x" + Integer.toHexString(v)
                    + " has bits outside 0x" + Integer.toHexString(mask));
        }
    }
}
