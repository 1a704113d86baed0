/*
 * Trap entries and the system call dispatcher. Every instruction here is
 * interpreted on the PVM host (~1 us each), so the hot paths (system call,
 * timer) are a handful of instructions and use no C.
 */
#include "kernel.h"

	.text
	.code64

/* ---- exceptions: push (err, vec), save registers, call kpanic_trap ---- */
.macro EXC n, has_err
exc_\n:
	.if \has_err == 0
	pushq $0
	.endif
	pushq $\n
	jmp exc_common
.endm

	.irp n, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
	EXC \n, 0
	.endr
	.irp n, 8,10,11,12,13,14,17,21,29,30
	EXC \n, 1
	.endr

exc_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	andq $-16, %rsp
	call kpanic_trap                /* does not return */
1:	hlt
	jmp 1b

	.section .rodata
	.balign 8
	.globl exc_stubs
exc_stubs:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad exc_\n
	.endr
	.text

/*
 * #UD. On the PVM host `int $0x80` from ring 3 arrives here with RIP at the
 * `cd 80` bytes: skip them and treat it as a system call. Anything else is a
 * real invalid opcode.
 */
	.globl ud_entry
ud_entry:
	testb $3, 8(%rsp)               /* CS: from ring 3? */
	jz 1f
	movq (%rsp), %rcx
	cmpw $0x80cd, (%rcx)
	jne 1f
	addq $2, (%rsp)
	jmp syscall_entry
1:	pushq $0
	pushq $6
	jmp exc_common

/* int $0x80 (DPL-3 gate; taken directly on hosts where it arrives as 0x80) */
	.globl syscall_entry
syscall_entry:
	cmpq $SYS_COUNT, %rax
	jae 1f
	jmp *sys_table(, %rax, 8)
1:	movq $-1, %rax
	iretq

	.section .rodata
	.balign 8
sys_table:
	.quad sys_write, sys_out, sys_in, sys_wait, sys_time, sys_poweroff
	.quad sys_reboot, sys_kinfo, sys_smp_start, sys_timer, sys_cpu
	.quad sys_irq_route, sys_irq_wait
	.text

/* (port, buf, len): the whole buffer in one string instruction */
sys_write:
	movq %rdx, %rcx
	movl %edi, %edx
	rep outsb
	xorl %eax, %eax
	iretq

/* (port, value, width) */
sys_out:
	movl %edx, %ecx
	movl %edi, %edx
	movl %esi, %eax
	cmpl $1, %ecx
	je 1f
	cmpl $2, %ecx
	je 2f
	outl %eax, %dx
	xorl %eax, %eax
	iretq
1:	outb %al, %dx
	xorl %eax, %eax
	iretq
2:	outw %ax, %dx
	xorl %eax, %eax
	iretq

/* (port, width) */
sys_in:
	movl %esi, %ecx
	movl %edi, %edx
	xorl %eax, %eax
	cmpl $1, %ecx
	je 1f
	cmpl $2, %ecx
	je 2f
	inl %dx, %eax
	iretq
1:	inb %dx, %al
	iretq
2:	inw %dx, %ax
	iretq

/* (): sleep until the next interrupt; the interrupt nests on this stack */
sys_wait:
	sti
	hlt
	cli
	movq %gs:PC_TICKS, %rax
	iretq

/* (code): isa-debug-exit; QEMU exits with (code << 1) | 1 */
sys_poweroff:
	movl %edi, %eax
	outl %eax, $0xf4
	cli
1:	hlt
	jmp 1b

/* (): keyboard-controller reset, then a triple fault */
sys_reboot:
	movb $0xfe, %al
	outb %al, $0x64
	lidt null_idtr
	ud2

sys_kinfo:
	movl $kinfo, %eax
	iretq

sys_cpu:
	movq %gs:PC_CPU, %rax
	iretq

/* system calls written in C: the iret frame leaves rsp 8 mod 16 */
.macro CSYS name
sys_\name:
	subq $8, %rsp
	call ksys_\name
	addq $8, %rsp
	iretq
.endm
	CSYS time
	CSYS smp_start
	CSYS timer
	CSYS irq_route

/* (seen): sleep unless a device interrupt came since ring 3 read irq_total;
 * IF=0 from the gate and sti's one-instruction shadow close the race */
sys_irq_wait:
	cmpq kinfo+KI_IRQ_TOTAL, %rdi
	jne 1f
	sti
	hlt
	cli
1:	movq kinfo+KI_IRQ_TOTAL, %rax
	iretq

/* ---- interrupts ---- */
	.globl timer_entry
timer_entry:
	incq %gs:PC_TICKS
	pushq %rax
	movl $LAPIC_EOI, %eax
	movl $0, (%rax)
	popq %rax
	iretq

/*
 * Device interrupt n (vector JG_VEC_IRQ0+n, level-triggered through the
 * IOAPIC): acknowledge the virtio-mmio device so it drops the line, count,
 * EOI. InterruptStatus often reads 0 (a redelivery after the EOI of a line
 * already lowered): then only count and EOI. Ring 3 polls the rings itself.
 */
.macro IRQ n
irq_\n:
	pushq %rax
	pushq %rcx
	movq irq_base+8*\n, %rcx
	movl 0x60(%rcx), %eax
	testl %eax, %eax
	jz 1f
	movl %eax, 0x64(%rcx)
	jmp 2f
1:	incq kinfo+KI_IRQ_ISR0
2:	incq kinfo+KI_IRQ_TOTAL
	movl $LAPIC_EOI, %eax
	movl $0, (%rax)
	popq %rcx
	popq %rax
	iretq
.endm
	.irp n, 0,1,2,3,4,5,6,7
	IRQ \n
	.endr

	.section .rodata
	.balign 8
	.globl irq_stubs
irq_stubs:
	.irp n, 0,1,2,3,4,5,6,7
	.quad irq_\n
	.endr
	.text

	.globl spurious_entry
spurious_entry:
	iretq

/* enter_user(rip, rsp, arg): first entry into ring 3, IF=1, IOPL=0 */
	.globl enter_user
enter_user:
	pushq $JG_UDATA
	pushq %rsi
	pushq $0x202
	pushq $JG_UCODE
	pushq %rdi
	movq %rdx, %rdi
	iretq

	.section .rodata
null_idtr:
	.word 0
	.quad 0
