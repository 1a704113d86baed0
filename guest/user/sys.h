/* System call wrappers (ABI in include/abi.h). */
#ifndef JG_SYS_H
#define JG_SYS_H
#include "abi.h"

static inline long syscall3(long n, long a, long b, long c)
{
	__asm__ volatile("int $0x80"
			 : "+a"(n), "+D"(a), "+S"(b), "+d"(c)
			 :: "rcx", "r8", "r9", "r10", "r11", "memory", "cc");
	return n;
}
static inline long syscall0(long n) { return syscall3(n, 0, 0, 0); }

static inline void sys_write(unsigned port, const void *buf, unsigned long len)
{
	syscall3(SYS_WRITE, port, (long)buf, (long)len);
}
static inline void sys_out(unsigned port, unsigned value, int width) { syscall3(SYS_OUT, port, value, width); }
static inline unsigned sys_in(unsigned port, int width) { return (unsigned)syscall3(SYS_IN, port, width, 0); }
static inline uint64_t sys_wait(void) { return (uint64_t)syscall0(SYS_WAIT); }
static inline uint64_t sys_time(void) { return (uint64_t)syscall0(SYS_TIME); }
static inline const struct jg_kinfo *sys_kinfo(void) { return (const struct jg_kinfo *)syscall0(SYS_KINFO); }
static inline long sys_smp_start(long max, long timeout_ms) { return syscall3(SYS_SMP_START, max, timeout_ms, 0); }
static inline long sys_timer(long hz) { return syscall3(SYS_TIMER, hz, 0, 0); }
static inline long sys_cpu(void) { return syscall0(SYS_CPU); }
void sys_exit(int code) __attribute__((noreturn));      /* power off */
void sys_reboot(void) __attribute__((noreturn));
#endif
