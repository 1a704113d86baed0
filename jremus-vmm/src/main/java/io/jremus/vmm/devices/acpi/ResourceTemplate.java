package io.jremus.vmm.devices.acpi;

import java.io.ByteArrayOutputStream;

/**
 * Builds an ASL {@code ResourceTemplate}: a Buffer of resource descriptors (ACPI 6.x, section
 * 6.4) closed by an End Tag. Only the descriptors jremus's devices need.
 */
public final class ResourceTemplate {
    private static final int SMALL_IRQ_NO_FLAGS = 0x22;   // type 4, length 2
    private static final int SMALL_IO = 0x47;             // type 8, length 7
    private static final int SMALL_END_TAG = 0x79;        // type 15, length 1
    private static final int LARGE_MEMORY32_FIXED = 0x86;
    private static final int LARGE_EXTENDED_IRQ = 0x89;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** {@code Memory32Fixed (ReadWrite, base, length)}. */
    public ResourceTemplate memory32Fixed(long base, long length) {
        out.write(LARGE_MEMORY32_FIXED);
        u16(9);
        out.write(1); // bit 0: read/write
        u32(base);
        u32(length);
        return this;
    }

    /**
     * {@code Interrupt (ResourceConsumer, Level|Edge, ActiveHigh, Exclusive) { gsi }}.
     *
     * @param levelTriggered level (the device holds the line while it has work) or edge
     */
    public ResourceTemplate extendedInterrupt(int gsi, boolean levelTriggered) {
        out.write(LARGE_EXTENDED_IRQ);
        u16(6);
        // bit 0 consumer, bit 1 edge (0 = level), bit 2 active-low (0 = high), bit 3 shared (0 = exclusive)
        out.write(0x01 | (levelTriggered ? 0 : 0x02));
        out.write(1);
        u32(gsi);
        return this;
    }

    /** {@code IO (Decode16, port, port, 1, length)}: a fixed block of I/O ports. */
    public ResourceTemplate io(int port, int length) {
        out.write(SMALL_IO);
        out.write(1); // 16-bit decode
        u16(port);
        u16(port);
        out.write(1);
        out.write(length);
        return this;
    }

    /** {@code IRQNoFlags () { irq }}: an ISA IRQ, edge, active high. */
    public ResourceTemplate irqNoFlags(int irq) {
        if (irq < 0 || irq > 15) throw new IllegalArgumentException("ISA IRQ " + irq + " out of range");
        out.write(SMALL_IRQ_NO_FLAGS);
        u16(1 << irq);
        return this;
    }

    /** The encoded Buffer term, End Tag included (checksum 0: "treat as valid"). */
    public byte[] toAml() {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.writeBytes(out.toByteArray());
        all.write(SMALL_END_TAG);
        all.write(0);
        return Aml.buffer(all.toByteArray());
    }

    private void u16(int v) {
        out.write(v);
        out.write(v >>> 8);
    }

    private void u32(long v) {
        for (int k = 0; k < 4; k++) out.write((int) (v >>> (8 * k)));
    }
}
