/*
 * PVH entry (32-bit flat protected mode, paging off, ebx = hvm_start_info),
 * the switch to 64-bit mode, and the 64-bit entries of the BSP and the APs.
 * Page tables and the GDT are static data, so booting costs almost no
 * instructions (ring-0 code is interpreted on the PVM host).
 */
#include "kernel.h"

/* ELF note read by QEMU -kernel and by the jremus VMM: XEN_ELFNOTE_PHYS32_ENTRY */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4             /* name size ("Xen\0") */
	.long 4             /* desc size */
	.long 18            /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long pvh_entry

	.section .text.boot, "ax"
	.code32
	.globl pvh_entry
pvh_entry:
	cli
	cld
	movl %ebx, pvh_start_info
	movl $pml4, %eax
	movl %eax, %cr3
	movl $0x620, %eax               /* PAE | OSFXSR | OSXMMEXCPT */
	movl %eax, %cr4
	movl $0xc0000080, %ecx          /* EFER.LME */
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl $0x80000033, %eax          /* PG | NE | ET | MP | PE */
	movl %eax, %cr0
	lgdt gdtr
	ljmp $JG_KCODE, $bsp64

	.code64
bsp64:
	movl $JG_KDATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movq $kstacks + JG_KSTACK, %rsp
	/* zero the kernel's bss (the ring-3 program zeroes its own, natively) */
	movl $_kbss_start, %edi
	movl $_kbss_end, %ecx
	subl %edi, %ecx
	shrl $3, %ecx
	rep stosq
	call kmain
1:	hlt
	jmp 1b

/* APs arrive here from the trampoline, in 64-bit mode with our GDT. */
	.globl ap64
ap64:
	movl $JG_KDATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movl $1, %eax
	lock xaddl %eax, ap_next
	cmpl ap_max, %eax
	jae 2f
	movl %eax, %edi
	incl %eax
	shll $14, %eax                  /* JG_KSTACK == 1 << 14 */
	addq $kstacks, %rax
	movq %rax, %rsp
	call ap_main
2:	cli                             /* beyond cpus=N: park */
	hlt
	jmp 2b

	.data
	.globl pvh_start_info, ap_next, ap_max, gdt
pvh_start_info: .long 0
ap_next:        .long 1
ap_max:         .long 1

	.balign 16
gdt:
	.quad 0
	.quad 0x00af9a000000ffff        /* 0x08 kernel code, 64-bit */
	.quad 0x00cf92000000ffff        /* 0x10 kernel data */
	.quad 0x00cff2000000ffff        /* 0x18 user data, DPL 3 */
	.quad 0x00affa000000ffff        /* 0x20 user code, 64-bit, DPL 3 */
	.fill 2 * JG_MAXCPU, 8, 0       /* 0x28 + 16n: TSS of CPU n */
gdt_end:
	.globl gdtr
gdtr:
	.word gdt_end - gdt - 1
	.quad gdt

/* Identity map of 0-4 GiB with 2 MiB pages, all user-accessible;
 * 3-4 GiB (MMIO: LAPIC, IOAPIC, virtio-mmio) uncached. */
	.section .data.pagetables, "aw"
	.balign 4096
	.globl pml4
pml4:
	.quad pdpt + 0x7                /* P | RW | U */
	.fill 511, 8, 0
pdpt:
	.quad pd + 0x0000 + 0x7
	.quad pd + 0x1000 + 0x7
	.quad pd + 0x2000 + 0x7
	.quad pd + 0x3000 + 0x7
	.fill 508, 8, 0
pd:
	.set i, 0
	.rept 2048
	.if i < 1536
	.quad (i << 21) | 0x87          /* P | RW | U | PS */
	.else
	.quad (i << 21) | 0x9f          /* P | RW | U | PWT | PCD | PS */
	.endif
	.set i, i + 1
	.endr
