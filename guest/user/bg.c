/*
 * Background load while the server runs, switched with DEBUG WORKLOAD:
 * cpu (xorshift64, as work=cpu) or mem (dirty <rate> MiB/s, one 8-byte store
 * per 4 KiB page, cyclically over `size` MiB after the key-value heap, as
 * work=mem). With a second CPU it runs there; otherwise in slices of about
 * 0.5 ms between network polls on the BSP.
 */
#include "guest.h"
#include "kv.h"
#include "server.h"

#define PAGE 4096ull
#define MIB (1ull << 20)

int bg_mode;
uint64_t bg_rate, bg_done;      /* done: cpu iterations or pages dirtied */
long bg_cpu;
uint64_t bg_region, bg_size;
static volatile uint64_t gen;   /* bumped on every switch */
static uint64_t t0, page, x = XORSHIFT_SEED;

int bg_set(int mode, uint64_t rate)
{
	if (mode == BG_MEM && (!bg_size || rate > (1u << 20)))
		return -1;
	bg_mode = BG_OFF;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	bg_rate = rate;
	bg_done = 0;
	t0 = 0;
	gen++;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	bg_mode = mode;
	printf("workload: %s rate=%lu on cpu%ld\n", mode == BG_CPU ? "cpu" : mode == BG_MEM ? "mem" : "off",
	       rate, bg_cpu);
	return 0;
}

/* one step of at most ~0.5 ms; returns 1 if it waits for the clock (mem, paced) */
static int step(long cpu)
{
	uint64_t g = gen;               /* a switch during this step must not count it */
	if (bg_mode == BG_CPU) {
		x = xorshift_run(x, 200000);
		if (g == gen)
			bg_done += 200000;
		return 0;
	}
	if (bg_mode != BG_MEM)
		return 1;
	uint64_t now = clock_ns_cpu(cpu);
	if (!t0)
		t0 = now;
	uint64_t npages = bg_size / PAGE, n = 4096;
	if (bg_rate) {
		uint64_t pps = bg_rate * (MIB / PAGE), e = now - t0;
		uint64_t target = e / 1000000000 * pps + e % 1000000000 * pps / 1000000000;
		if (bg_done >= target)
			return 1;
		if (target - bg_done < n)
			n = target - bg_done;
	}
	for (uint64_t i = 0; i < n; i++) {
		*(volatile uint64_t *)(bg_region + page * PAGE) = bg_done + i;
		if (++page == npages)
			page = 0;
	}
	if (g == gen)
		bg_done += n;
	return 0;
}

void bg_slice(void)
{
	step(0);
}

void bg_ap(long cpu)
{
	for (;;) {
		if (cpu != bg_cpu || bg_mode == BG_OFF || step(cpu))
			sys_wait();
	}
}
