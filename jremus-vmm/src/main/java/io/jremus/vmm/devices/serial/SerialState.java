package io.jremus.vmm.devices.serial;

/**
 * The guest-visible state of a {@link Serial8250}, apart from its behaviour, for checkpoints.
 * Plain untrusted data: it becomes a live UART only through {@link Serial8250#restore}, which
 * checks every field. Registers are stored as ints holding one byte each.
 *
 * @param divisorLow    DLL
 * @param divisorHigh   DLM
 * @param ier           interrupt enable register (low 4 bits meaningful)
 * @param lcr           line control register (bit 7: DLAB)
 * @param mcr           modem control register (low 5 bits meaningful; bit 4: loopback)
 * @param fcr           the last FIFO control write's persistent part (enable bit and trigger level)
 * @param scratch       SCR
 * @param overrun       LSR.OE is latched (input was dropped since the guest last read LSR)
 * @param thrInterrupt  a "transmitter holding register empty" interrupt is pending
 * @param rxFifo        received bytes the guest has not read yet, oldest first
 */
public record SerialState(int divisorLow, int divisorHigh, int ier, int lcr, int mcr, int fcr, int scratch,
                          boolean overrun, boolean thrInterrupt, byte[] rxFifo) {
    public SerialState {
        rxFifo = rxFifo.clone();
    }

    @Override
    public byte[] rxFifo() {
        return rxFifo.clone();
    }

    // Records compare arrays by identity; state equality must compare the bytes.
    @Override
    public boolean equals(Object o) {
        return o instanceof SerialState s && divisorLow == s.divisorLow && divisorHigh == s.divisorHigh
                && ier == s.ier && lcr == s.lcr && mcr == s.mcr && fcr == s.fcr && scratch == s.scratch
                && overrun == s.overrun && thrInterrupt == s.thrInterrupt && java.util.Arrays.equals(rxFifo, s.rxFifo);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(divisorLow, divisorHigh, ier, lcr, mcr, fcr, scratch, overrun, thrInterrupt)
                * 31 + java.util.Arrays.hashCode(rxFifo);
    }
}
