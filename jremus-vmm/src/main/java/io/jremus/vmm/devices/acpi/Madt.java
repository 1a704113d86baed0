package io.jremus.vmm.devices.acpi;

import io.jremus.vmm.MachineLayout;

import java.nio.ByteBuffer;

/**
 * The MADT ("APIC"): local APIC address, one enabled Processor Local APIC per vCPU (ACPI UID =
 * APIC id = vCPU index), the in-kernel IOAPIC (id 0, GSI base 0), LINT1 of every CPU as NMI, and
 * optionally the PC's IRQ0 → GSI2 override (see {@link AcpiConfig#isaIrq0OnGsi2()}).
 * PCAT_COMPAT is set because KVM's in-kernel irqchip includes the two 8259 PICs, which the
 * guest should mask when it switches to the IOAPIC.
 */
final class Madt {
    static final int REVISION = 5;
    static final int PCAT_COMPAT = 1;
    static final int TYPE_LOCAL_APIC = 0;
    static final int TYPE_IO_APIC = 1;
    static final int TYPE_INTERRUPT_OVERRIDE = 2;
    static final int TYPE_LOCAL_APIC_NMI = 4;
    static final int LOCAL_APIC_ENABLED = 1;

    private Madt() {
    }

    static byte[] build(AcpiConfig config) {
        int length = Sdt.HEADER_SIZE + 8 + 8 * config.vcpus() + 12 + 6 + (config.isaIrq0OnGsi2() ? 10 : 0);
        ByteBuffer t = Sdt.start("APIC", REVISION, length);
        t.putInt((int) MachineLayout.LAPIC_BASE);
        t.putInt(PCAT_COMPAT);
        for (int i = 0; i < config.vcpus(); i++) {
            t.put((byte) TYPE_LOCAL_APIC).put((byte) 8).put((byte) i).put((byte) i).putInt(LOCAL_APIC_ENABLED);
        }
        t.put((byte) TYPE_IO_APIC).put((byte) 12).put((byte) 0).put((byte) 0)
                .putInt((int) MachineLayout.IOAPIC_BASE).putInt(0);
        if (config.isaIrq0OnGsi2()) {
            // bus 0 (ISA), source IRQ 0, GSI 2, flags 0: polarity and trigger conform to ISA (high, edge)
            t.put((byte) TYPE_INTERRUPT_OVERRIDE).put((byte) 10).put((byte) 0).put((byte) 0).putInt(2).putShort((short) 0);
        }
        // all processors (UID 0xFF), flags 0 (conforming), LINT1
        t.put((byte) TYPE_LOCAL_APIC_NMI).put((byte) 6).put((byte) 0xFF).putShort((short) 0).put((byte) 1);
        return Sdt.finish(t);
    }
}
