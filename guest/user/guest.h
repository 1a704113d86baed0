/* The ring-3 program: configuration from the command line, shared state. */
#ifndef JG_GUEST_H
#define JG_GUEST_H
#include "libc.h"
#include "sys.h"

enum work { WORK_IDLE, WORK_CPU, WORK_MEM, WORK_TOUCH, WORK_SMP, WORK_SYSCALL, WORK_REDIS };
enum exit_mode { EXIT_POWEROFF, EXIT_REBOOT, EXIT_STAY };

/* exit codes (guest side; QEMU's isa-debug-exit turns code c into rc 2c+1) */
#define EXIT_OK        0
#define EXIT_BADCONF   1   /* bad command line or boot information */
#define EXIT_FAILED    2   /* a workload's own check failed */
/* 3 = kernel panic (unexpected exception), see kernel/kernel.c */

struct config {
	enum work work;
	uint64_t iters;                 /* cpu */
	uint64_t rate, size;            /* mem: MiB/s (0 = unpaced), MiB */
	uint64_t start, pages, stride;  /* touch: MiB, count, pages */
	uint64_t secs;                  /* 0 = not given */
	uint64_t cpus;                  /* 0 = not given: probe */
	uint64_t hz;
	int exit_mode, has_exit;
	int has_work;
	uint64_t heap;                  /* redis: key-value heap in MiB */
};

/* network and device options (server.c) */
extern int net_poll_mode;               /* 0 irq, 1 tick, 2 spin */
extern uint64_t net_spin_us;
extern uint32_t net_ip, net_mask, net_gw;
extern const char *virtio_bad_mode;
extern int virtio_bad_blk;
extern uint64_t virtio_bad_ms;

struct cpu_slot {                       /* one cache line per CPU */
	volatile uint64_t counter;
	volatile uint64_t result;
	volatile uint64_t ms;
	volatile uint64_t done;
	uint64_t pad[4];
} __attribute__((aligned(64)));

extern struct config cfg;
extern struct cpu_slot slots[JG_MAXCPU];
extern uint64_t free_start;             /* first MiB-aligned byte after the image */
extern long ncpus;

static inline uint64_t clock_ns(void) { return clock_ns_cpu(0); }  /* BSP only */
int ram_contains(uint64_t addr, uint64_t len);
void finish(int default_mode) __attribute__((noreturn));
void fail(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));

/* work.c */
#define XORSHIFT_SEED 88172645463325252ull   /* 0x139408dcbbf7a44 */
uint64_t xorshift_run(uint64_t x, uint64_t n);
void work_validate(void);
void work_cpu(void) __attribute__((noreturn));
void work_syscall(void) __attribute__((noreturn));
void work_mem(void) __attribute__((noreturn));
void work_touch(void) __attribute__((noreturn));
void work_idle(void) __attribute__((noreturn));
void work_smp(void) __attribute__((noreturn));
void ap_work(long cpu) __attribute__((noreturn));
#endif
