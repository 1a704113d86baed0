package io.jremus.vmm.boot;

import io.jremus.vmm.MachineLayout;
import io.jremus.vmm.memory.GuestMemory;

/**
 * Builds the boot vCPU state for the two entries jremus supports and writes what that state
 * points at into guest RAM: the boot GDT and, for long mode, identity page tables.
 *
 * <p>GDT layout (shared by both modes so selectors never change meaning): 0x00 and 0x08 null,
 * 0x10 flat code ({@code __BOOT_CS} in Linux's boot protocol), 0x18 flat data
 * ({@code __BOOT_DS}), 0x20 the boot TSS (16 bytes, a long-mode system descriptor).
 *
 * <p>Page tables: one PML4 entry, one PDPT with four entries, four page directories of 2 MiB
 * pages: the first 4 GiB identity-mapped, writable, supervisor. That covers a kernel, its
 * init_size area and the initrd wherever low RAM puts them, and the MMIO hole too (harmless:
 * the kernel builds its own tables before it touches devices).
 */
public final class BootCpu {
    public static final int CODE_SELECTOR = 0x10;
    public static final int DATA_SELECTOR = 0x18;
    public static final int TSS_SELECTOR = 0x20;
    static final int GDT_BYTES = 0x30;

    private static final long PTE_PRESENT = 1;
    private static final long PTE_WRITE = 1 << 1;
    private static final long PTE_HUGE = 1 << 7;

    private BootCpu() {
    }

    /** PVH entry: 32-bit flat protected mode, paging off, EBX = start_info. */
    public static BootPlan protectedMode32(GuestMemory memory, long entry, long startInfo, LoadedImage loaded) {
        Segment code = Segment.flatCode(CODE_SELECTOR, false);
        Segment data = Segment.flatData(DATA_SELECTOR);
        Segment tss = Segment.bootTss(TSS_SELECTOR);
        writeGdt(memory, code, data, tss);
        return new BootPlan(CpuMode.PROTECTED_32, entry, MachineLayout.BOOT_STACK_TOP, BootPlan.RFLAGS_RESERVED,
                startInfo, 0, BootPlan.CR0_PE | BootPlan.CR0_ET, 0, 0, 0,
                new DescriptorTable(MachineLayout.BOOT_GDT, GDT_BYTES - 1), new DescriptorTable(0, 0),
                code, data, data, data, data, data, tss, Segment.nullLdt(), loaded);
    }

    /** Linux 64-bit entry: long mode, first 4 GiB identity-mapped, RSI = zero page. */
    public static BootPlan longMode64(GuestMemory memory, long entry, long zeroPage, LoadedImage loaded) {
        Segment code = Segment.flatCode(CODE_SELECTOR, true);
        Segment data = Segment.flatData(DATA_SELECTOR);
        Segment tss = Segment.bootTss(TSS_SELECTOR);
        writeGdt(memory, code, data, tss);
        writeIdentityPageTables(memory);
        return new BootPlan(CpuMode.LONG_64, entry, MachineLayout.BOOT_STACK_TOP, BootPlan.RFLAGS_RESERVED,
                0, zeroPage, BootPlan.CR0_PE | BootPlan.CR0_ET | BootPlan.CR0_PG, MachineLayout.BOOT_PML4,
                BootPlan.CR4_PAE, BootPlan.EFER_LME | BootPlan.EFER_LMA,
                new DescriptorTable(MachineLayout.BOOT_GDT, GDT_BYTES - 1), new DescriptorTable(0, 0),
                code, data, data, data, data, data, tss, Segment.nullLdt(), loaded);
    }

    private static void writeGdt(GuestMemory memory, Segment code, Segment data, Segment tss) {
        long gdt = MachineLayout.BOOT_GDT;
        memory.sliceForWrite(gdt, GDT_BYTES).fill((byte) 0);
        memory.putLong(gdt + code.selector(), code.descriptor());
        memory.putLong(gdt + data.selector(), data.descriptor());
        memory.putLong(gdt + tss.selector(), tss.descriptor());
    }

    private static void writeIdentityPageTables(GuestMemory memory) {
        long pml4 = MachineLayout.BOOT_PML4;
        long pdpt = MachineLayout.BOOT_PDPT;
        memory.sliceForWrite(pml4, GuestMemory.PAGE_SIZE).fill((byte) 0);
        memory.sliceForWrite(pdpt, GuestMemory.PAGE_SIZE).fill((byte) 0);
        memory.putLong(pml4, pdpt | PTE_PRESENT | PTE_WRITE);
        for (int d = 0; d < MachineLayout.BOOT_PD_COUNT; d++) {
            long pd = MachineLayout.BOOT_PD + d * GuestMemory.PAGE_SIZE;
            memory.putLong(pdpt + d * 8L, pd | PTE_PRESENT | PTE_WRITE);
            for (int i = 0; i < 512; i++) {
                long phys = ((long) d << 30) | ((long) i << 21);
                memory.putLong(pd + i * 8L, phys | PTE_PRESENT | PTE_WRITE | PTE_HUGE);
            }
        }
    }
}
