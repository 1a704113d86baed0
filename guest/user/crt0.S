/* Ring-3 entry. The kernel enters here on every CPU with rdi = CPU index
 * and rsp = that CPU's user stack (16-byte aligned). */
	.text
	.globl _ustart
_ustart:
	testl %edi, %edi
	jnz 1f
	/* BSP: zero the program's bss (natively, fast) */
	movl $_ubss_start, %edi
	movl $_ubss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb
	call user_main
	movl %eax, %edi
	call sys_exit
1:	call user_ap_main
2:	jmp 2b
