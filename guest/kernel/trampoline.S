/*
 * Application processor start code. Copied to JG_TRAMPOLINE (below 1 MiB) and
 * entered by the SIPI in real mode at JG_TRAMPOLINE:0. It goes straight to
 * 64-bit mode (PE and PG set together, EFER.LME already on) using the BSP's
 * GDT and page tables, then jumps to ap64 in the kernel image.
 */
#include "kernel.h"

	.section .text.tramp, "ax"
	.code16
	.globl tramp_start, tramp_end
tramp_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl tramp_gdtr - tramp_start
	movl $pml4, %eax
	movl %eax, %cr3
	movl $0x620, %eax               /* PAE | OSFXSR | OSXMMEXCPT */
	movl %eax, %cr4
	movl $0xc0000080, %ecx
	rdmsr
	orl $0x100, %eax                /* EFER.LME */
	wrmsr
	movl $0x80000033, %eax          /* PG | NE | ET | MP | PE */
	movl %eax, %cr0
	ljmpl $JG_KCODE, $ap64
	.balign 4
tramp_gdtr:
	.word 8 * (5 + 2 * JG_MAXCPU) - 1
	.long gdt
tramp_end:
