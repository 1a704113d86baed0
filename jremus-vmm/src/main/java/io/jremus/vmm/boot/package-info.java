/**
 * x86-64 direct kernel boot: puts a kernel, its initrd and command line into guest RAM and
 * describes the vCPU state to start it in. No firmware runs; the VMM does the loader's job.
 *
 * <pre>
 *   GuestRamLayout.regionsFor(mem) ──► VM core maps RAM
 *   AcpiTables (devices.acpi) ───────► tables at 0xE0000, RSDP address
 *   KernelBoot.boot(memory, kernel, initrd, cmdline, rsdp)
 *      ├─ ELF with Xen PHYS32_ENTRY note ─► PvhBoot:     segments at p_paddr, hvm_start_info,
 *      │                                                  32-bit protected mode, EBX = start_info
 *      └─ bzImage (protocol ≥ 2.12)      ─► BzImageBoot: code at pref_address, zero page,
 *                                                         long mode, RSI = zero page, RIP = load + 0x200
 *   ──► BootPlan: registers, control registers, segments; VM core copies into kvm_regs/kvm_sregs
 * </pre>
 *
 * Low memory used (see {@link io.jremus.vmm.MachineLayout}): GDT 0x500, start_info 0x6000,
 * modlist 0x6080, memmap 0x6100, zero page 0x7000, stack below 0x8FF0, page tables 0x9000–0xEFFF,
 * command line 0x20000, ACPI 0xE0000–0xFFFFF. Every input file is untrusted and validated first.
 */
package io.jremus.vmm.boot;
