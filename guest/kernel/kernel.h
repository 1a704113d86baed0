/* Ring-0 internals shared by the kernel's C and assembly files. */
#ifndef JG_KERNEL_H
#define JG_KERNEL_H
#include "abi.h"

/* Per-CPU block, reached through the GS base (set once per CPU, never swapped:
 * the ring-3 program must not load %gs). Offsets used from assembly: */
#define PC_PVCLOCK  0      /* struct pvclock, 32 bytes, written by KVM */
#define PC_TICKS    32     /* timer interrupts on this CPU */
#define PC_CPU      40     /* CPU index */
#define PC_SELF     48     /* address of this block */
#define PC_TSS      64     /* 104-byte TSS */
#define PC_SIZE     256

#define LAPIC_BASE  0xfee00000
#define LAPIC_EOI   (LAPIC_BASE + 0xb0)

#define VEC_TIMER    0x40
#define VEC_SYSCALL  0x80
#define VEC_SPURIOUS 0xff

/* offsets in struct jg_kinfo used from assembly */
#define KI_IRQ_TOTAL 72
#define KI_IRQ_ISR0  80

#ifndef __ASSEMBLER__
struct pvclock {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t   tsc_shift;
	uint8_t  flags;
	uint8_t  pad[2];
};

struct percpu {
	volatile struct pvclock pv;
	uint64_t ticks;
	uint64_t cpu;
	struct percpu *self;
	uint64_t pad0;
	uint8_t tss[104];
	uint8_t pad1[PC_SIZE - 64 - 104];
} __attribute__((aligned(64)));

/* regs pushed by exc_common (kernel/entry.S), lowest address first */
struct trapframe {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vec, err;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* kernel/entry.S */
extern void *exc_stubs[32];
extern char ud_entry[], syscall_entry[], timer_entry[], spurious_entry[];
extern void *irq_stubs[JG_IRQ_SLOTS];
extern uint64_t irq_base[JG_IRQ_SLOTS];
extern void enter_user(uint64_t rip, uint64_t rsp, uint64_t arg) __attribute__((noreturn));
/* kernel/boot.S */
extern uint64_t gdt[];
extern uint32_t pvh_start_info;
extern volatile uint32_t ap_next, ap_max;
extern char tramp_start[], tramp_end[];
/* linker script */
extern char _end[], _kbss_start[], _kbss_end[], kstacks[], ustacks[];
/* user/crt0.S */
extern char _ustart[];
#endif
#endif
