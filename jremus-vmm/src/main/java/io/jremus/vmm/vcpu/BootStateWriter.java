package io.jremus.vmm.vcpu;

import io.jremus.vmm.boot.BootPlan;
import io.jremus.vmm.boot.DescriptorTable;
import io.jremus.vmm.boot.Segment;
import io.jremus.vmm.kvm.KvmVcpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.jremus.sys.kvm.KvmStructs.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Copies a {@link BootPlan} into the boot vCPU's {@code kvm_sregs} and {@code kvm_regs}. The
 * plan is KVM-agnostic; this is the one place that knows both shapes.
 */
public final class BootStateWriter {
    private BootStateWriter() {
    }

    public static void apply(KvmVcpu vcpu, BootPlan plan) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sregs = vcpu.getSregs(a); // keeps apic_base and the interrupt bitmap
            segment(sregs, SREGS_CS, plan.cs());
            segment(sregs, SREGS_DS, plan.ds());
            segment(sregs, SREGS_ES, plan.es());
            segment(sregs, SREGS_FS, plan.fs());
            segment(sregs, SREGS_GS, plan.gs());
            segment(sregs, SREGS_SS, plan.ss());
            segment(sregs, SREGS_TR, plan.tr());
            segment(sregs, SREGS_LDT, plan.ldt());
            table(sregs, SREGS_GDT, plan.gdt());
            table(sregs, SREGS_IDT, plan.idt());
            sregs.set(JAVA_LONG, SREGS_CR0, plan.cr0());
            sregs.set(JAVA_LONG, SREGS_CR3, plan.cr3());
            sregs.set(JAVA_LONG, SREGS_CR4, plan.cr4());
            sregs.set(JAVA_LONG, SREGS_EFER, plan.efer());
            vcpu.setSregs(sregs);

            MemorySegment regs = a.allocate(KVM_REGS_SIZE, 8);
            regs.set(JAVA_LONG, REGS_RIP, plan.rip());
            regs.set(JAVA_LONG, REGS_RSP, plan.rsp());
            regs.set(JAVA_LONG, REGS_RFLAGS, plan.rflags());
            regs.set(JAVA_LONG, REGS_RBX, plan.rbx());
            regs.set(JAVA_LONG, REGS_RSI, plan.rsi());
            vcpu.setRegs(regs);
        }
    }

    private static void segment(MemorySegment sregs, long off, Segment s) {
        sregs.set(JAVA_LONG, off + SEGMENT_BASE, s.base());
        sregs.set(JAVA_INT, off + SEGMENT_LIMIT, (int) s.limit());
        sregs.set(JAVA_SHORT, off + SEGMENT_SELECTOR, (short) s.selector());
        sregs.set(JAVA_BYTE, off + SEGMENT_TYPE, (byte) s.type());
        sregs.set(JAVA_BYTE, off + SEGMENT_PRESENT, flag(s.present()));
        sregs.set(JAVA_BYTE, off + SEGMENT_DPL, (byte) s.dpl());
        sregs.set(JAVA_BYTE, off + SEGMENT_DB, flag(s.db()));
        sregs.set(JAVA_BYTE, off + SEGMENT_S, flag(s.s()));
        sregs.set(JAVA_BYTE, off + SEGMENT_L, flag(s.l()));
        sregs.set(JAVA_BYTE, off + SEGMENT_G, flag(s.g()));
        sregs.set(JAVA_BYTE, off + SEGMENT_AVL, (byte) 0);
        sregs.set(JAVA_BYTE, off + SEGMENT_UNUSABLE, flag(s.unusable()));
    }

    private static void table(MemorySegment sregs, long off, DescriptorTable t) {
        sregs.set(JAVA_LONG, off + DTABLE_BASE, t.base());
        sregs.set(JAVA_SHORT, off + DTABLE_LIMIT, (short) t.limit());
    }

    private static byte flag(boolean b) {
        return (byte) (b ? 1 : 0);
    }
}
