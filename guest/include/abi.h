/*
 * The interface between the ring-0 kernel and the ring-3 program of the
 * jremus test guest: system call numbers, limits, and the kernel info block.
 * Included from C and from assembly.
 */
#ifndef JG_ABI_H
#define JG_ABI_H

#define JG_MAXCPU      16          /* CPUs the kernel can run */
#define JG_KSTACK      16384       /* ring-0 stack per CPU */
#define JG_USTACK      65536       /* ring-3 stack per CPU */
#define JG_TRAMPOLINE  0x8000      /* low page the AP start code is copied to */

/* Segment selectors (GDT layout fixed by kernel/boot.S). */
#define JG_KCODE 0x08
#define JG_KDATA 0x10
#define JG_UDATA 0x1b
#define JG_UCODE 0x23
#define JG_TSS0  0x28              /* TSS of CPU n is JG_TSS0 + 16*n */

/*
 * System calls: `int $0x80`, rax = number, args in rdi, rsi, rdx,
 * result in rax. rcx, rdx, rsi, rdi, r8-r11 and flags are clobbered.
 */
#define SYS_WRITE     0   /* (port, buf, len): rep outsb; returns 0 */
#define SYS_OUT       1   /* (port, value, width 1|2|4); returns 0 */
#define SYS_IN        2   /* (port, width 1|2|4); returns the value */
#define SYS_WAIT      3   /* (): sti;hlt until an interrupt; returns this CPU's tick count */
#define SYS_TIME      4   /* (): ns since the kernel started (kvmclock) */
#define SYS_POWEROFF  5   /* (code): 32-bit out to port 0xf4; never returns */
#define SYS_REBOOT    6   /* (): 0xfe to port 0x64, then a triple fault; never returns */
#define SYS_KINFO     7   /* (): address of struct jg_kinfo */
#define SYS_SMP_START 8   /* (max_cpus, timeout_ms): start APs; returns CPUs online */
#define SYS_TIMER     9   /* (hz): set the LAPIC timer rate (1..10000) for CPUs started later and this one */
#define SYS_CPU      10   /* (): index of the calling CPU (0 = BSP) */
#define SYS_IRQ_ROUTE 11  /* (gsi, slot, mmio_base): IOAPIC RTE gsi -> vector JG_VEC_IRQ0+slot,
                             level, active high, to the calling CPU; the handler acks the
                             virtio-mmio device at mmio_base (ISR at +0x60, ACK at +0x64).
                             Returns 0, or -1 for a bad gsi/slot */
#define SYS_IRQ_WAIT 12   /* (seen): if kinfo.irq_total == seen, sti;hlt until an interrupt;
                             returns kinfo.irq_total */
#define SYS_COUNT    13

#define JG_VEC_IRQ0   0x50        /* device interrupt vectors 0x50..0x57 */
#define JG_IRQ_SLOTS  8
#define JG_IOAPIC     0xfec00000

#ifndef __ASSEMBLER__
#include <stdint.h>

struct jg_kinfo {
	uint64_t start_info;    /* paddr of struct hvm_start_info (ebx at PVH entry) */
	uint64_t image_end;     /* first byte after the image, its bss and stacks */
	uint64_t lapic_hz;      /* measured LAPIC timer rate (divide by 1) */
	uint64_t kvmclock_msr;  /* MSR used to register kvmclock */
	uint32_t hz;            /* current timer rate */
	uint32_t maxcpu;        /* JG_MAXCPU */
	uint32_t online;        /* CPUs running (1 until SYS_SMP_START) */
	uint32_t pad;
	uint64_t pvclock;       /* kvmclock area of CPU 0 (struct pvclock, readable from ring 3) */
	uint64_t pvclock_stride;/* CPU n's area is at pvclock + n * pvclock_stride */
	uint64_t boot_ns;       /* kvmclock value SYS_TIME counts from */
	/* device interrupts (SYS_IRQ_ROUTE), counted by the ring-0 handler and
	 * read by ring 3 directly (every page is user-readable) */
	volatile uint64_t irq_total;   /* all device interrupts */
	volatile uint64_t irq_isr0;    /* of which InterruptStatus read 0 (spurious redelivery) */
};

/* PVH boot ABI (Xen's hvm_start_info, version 1). */
#define HVM_START_MAGIC 0x336ec578u
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;      /* version >= 1 */
	uint32_t memmap_entries;    /* version >= 1 */
	uint32_t reserved;
};
struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;              /* 1 = RAM */
	uint32_t reserved;
};
#endif
#endif
