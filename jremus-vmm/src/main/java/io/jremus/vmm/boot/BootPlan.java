package io.jremus.vmm.boot;

/**
 * Everything the boot vCPU (vCPU 0) needs to start a loaded kernel, independent of KVM's structs.
 * The VM core copies the registers into {@code kvm_regs} and {@code kvm_sregs} field by field;
 * the guest memory this plan refers to (GDT, page tables, boot info) has already been written.
 * Application processors are not covered: the guest starts them through the local APIC.
 *
 * <p>Two shapes exist. {@link CpuMode#PROTECTED_32} (PVH): CR0 = PE|ET, paging off, flat 32-bit
 * CS/DS/ES/FS/GS/SS, EBX = {@code hvm_start_info}. {@link CpuMode#LONG_64} (Linux 64-bit boot
 * protocol): CR0 = PE|ET|PG, CR4 = PAE, EFER = LME|LMA, CR3 = identity page tables for the first
 * 4 GiB, CS = {@code __BOOT_CS} (0x10), data = {@code __BOOT_DS} (0x18), RSI = zero page.
 * In both, RFLAGS = 0x2 (interrupts off) and the GDT at {@code MachineLayout.BOOT_GDT} holds
 * the very descriptors below, so a guest that reloads a selector gets the same segment.
 *
 * @param mode   which of the two shapes
 * @param rip    entry point
 * @param rsp    a small boot stack (neither ABI promises one; Linux sets its own)
 * @param rflags 0x2: only the reserved bit
 * @param rbx    PVH start_info address, else 0
 * @param rsi    Linux zero page address, else 0
 * @param cr0    control register 0
 * @param cr3    page-table root, 0 with paging off
 * @param cr4    control register 4
 * @param efer   the IA32_EFER MSR as {@code kvm_sregs.efer}
 * @param gdt    the boot GDT
 * @param idt    base 0, limit 0: interrupts stay off until the guest loads its own IDT
 * @param cs     code segment
 * @param ds     data segment (es, fs, gs, ss are the same descriptor)
 * @param es     as ds
 * @param fs     as ds
 * @param gs     as ds
 * @param ss     as ds
 * @param tr     busy TSS, base 0, limit 0x67 (PVH requires it; KVM needs a usable TR)
 * @param ldt    unusable null LDT
 * @param loaded what was loaded where, for logging
 */
public record BootPlan(CpuMode mode, long rip, long rsp, long rflags, long rbx, long rsi,
                       long cr0, long cr3, long cr4, long efer,
                       DescriptorTable gdt, DescriptorTable idt,
                       Segment cs, Segment ds, Segment es, Segment fs, Segment gs, Segment ss,
                       Segment tr, Segment ldt, LoadedImage loaded) {

    public static final long CR0_PE = 1L;
    public static final long CR0_ET = 1L << 4;
    public static final long CR0_PG = 1L << 31;
    public static final long CR4_PAE = 1L << 5;
    public static final long EFER_LME = 1L << 8;
    public static final long EFER_LMA = 1L << 10;
    public static final long RFLAGS_RESERVED = 0x2;
}
