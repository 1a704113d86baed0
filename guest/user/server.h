/* The Redis-protocol (RESP2) server, its append-only log and the background
 * workloads. */
#ifndef JG_SERVER_H
#define JG_SERVER_H
#include <stddef.h>
#include <stdint.h>

struct arg {
	const char *p;
	size_t n;
};
struct buf {
	char *p;
	size_t len, cap;
};
int buf_put(struct buf *b, const void *d, size_t n);   /* 0 or -1 (OOM) */

/* server.c */
void work_redis(void) __attribute__((noreturn));
/* run one command; out may be NULL (replay); returns 1 if it changed the
 * data set (to be logged), 0 if not, -1 if it was refused */
int cmd_exec(int argc, struct arg *argv, struct buf *out, int *quit);

/* aof.c: append-only log on the virtio-blk disk */
extern int aof_on;
extern uint64_t aof_records, aof_commits, aof_bytes, aof_commit_ns, aof_end, aof_gen;
int aof_open(void);                            /* replay; 0 or -1 (log disabled) */
int aof_room(int argc, struct arg *argv);      /* 1 if the record fits on the disk */
int aof_append(int argc, struct arg *argv);    /* stage a record; 0 or -1 */
int aof_commit(void);                          /* write + flush staged records; 0 or -1 */
int aof_pending(void);

/* bg.c: CPU / memory-churn load while the server runs */
enum { BG_OFF, BG_CPU, BG_MEM };
extern int bg_mode;
extern uint64_t bg_rate, bg_done;
int bg_set(int mode, uint64_t rate);           /* 0 or -1 (bad rate / no region) */
void bg_slice(void);                           /* BSP: a bounded slice between polls */
void bg_ap(long cpu) __attribute__((noreturn));
extern long bg_cpu;                            /* CPU running it (0 = BSP, between polls) */
extern uint64_t bg_region, bg_size;
#endif
