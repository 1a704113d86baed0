/* A very small libc for the ring-3 program. */
#ifndef JG_LIBC_H
#define JG_LIBC_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/* %[0][width][.prec|.*][l|ll|z]{d,u,x,s,c,p,%} (precision for %s only) */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* one line to the serial port (0x3f8) in one system call */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ns since the kernel started, read from CPU cpu's kvmclock area in ring 3
 * (same clock as SYS_TIME); call it only for the CPU you run on */
uint64_t clock_ns_cpu(long cpu);

/* decimal or 0x-hex; returns 0 on success */
int parse_u64(const char *s, size_t n, uint64_t *out);
#endif
