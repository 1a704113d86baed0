package io.jremus.vmm.vcpu;

import io.jremus.vmm.kvm.KvmVcpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Puts the local APIC's LINT0 in ExtINT and LINT1 in NMI delivery mode, the "virtual wire"
 * wiring a PC firmware leaves, so a guest that still uses the 8259 gets its interrupts.
 */
public final class LapicSetup {
    private LapicSetup() {
    }

    private static final int APIC_LVT_LINT0 = 0x350;
    private static final int APIC_LVT_LINT1 = 0x360;
    private static final int DELIVERY_MODE_MASK = 0x700;
    private static final int MODE_EXTINT = 0x700;
    private static final int MODE_NMI = 0x400;

    public static void apply(KvmVcpu vcpu) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment lapic = vcpu.getLapic(a);
            int lint0 = lapic.get(JAVA_INT, APIC_LVT_LINT0);
            lapic.set(JAVA_INT, APIC_LVT_LINT0, (lint0 & ~DELIVERY_MODE_MASK) | MODE_EXTINT);
            int lint1 = lapic.get(JAVA_INT, APIC_LVT_LINT1);
            lapic.set(JAVA_INT, APIC_LVT_LINT1, (lint1 & ~DELIVERY_MODE_MASK) | MODE_NMI);
            vcpu.setLapic(lapic);
        }
    }
}
