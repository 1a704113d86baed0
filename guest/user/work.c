/* The workloads. All of this runs in ring 3, natively. */
#include "guest.h"

#define NS_PER_S ((uint64_t)1000000000)
#define PAGE ((uint64_t)4096)
#define MIB ((uint64_t)1 << 20)

uint64_t __attribute__((noinline)) xorshift_run(uint64_t x, uint64_t n)
{
	while (n--) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	return x;
}

/* The loop in chunks, so the BSP can print progress about once a second. */
static uint64_t cpu_loop(long cpu, uint64_t iters, uint64_t *ms)
{
	const uint64_t chunk = 1ull << 24;
	uint64_t x = XORSHIFT_SEED, done = 0;
	uint64_t t0 = clock_ns_cpu(cpu), next = t0 + NS_PER_S;
	while (done < iters) {
		uint64_t n = iters - done < chunk ? iters - done : chunk;
		x = xorshift_run(x, n);
		done += n;
		if (cpu == 0 && done < iters) {
			uint64_t t = clock_ns();
			if (t >= next) {
				printf("cpu: progress iters=%lu ms=%lu\n", done, (t - t0) / 1000000);
				next += NS_PER_S;
			}
		}
	}
	*ms = (clock_ns_cpu(cpu) - t0) / 1000000;
	return x;
}

void work_cpu(void)
{
	uint64_t ms, x = cpu_loop(0, cfg.iters, &ms);
	printf("cpu: iters=%lu result=0x%016lx ms=%lu\n", cfg.iters, x, ms);
	int bad = 0;
	for (long c = 1; c < ncpus; c++) {
		while (!slots[c].done)
			sys_wait();
		printf("cpu: cpu%ld iters=%lu result=0x%016lx ms=%lu\n", c, cfg.iters,
		       slots[c].result, slots[c].ms);
		bad |= slots[c].result != x;
	}
	if (bad)
		fail(EXIT_FAILED, "cpu results differ between CPUs");
	finish(EXIT_POWEROFF);
}

/* Checks the regions the workloads will write, before `ready`. */
void work_validate(void)
{
	if (cfg.work == WORK_MEM && !ram_contains(free_start, cfg.size * MIB))
		fail(EXIT_BADCONF, "mem: size=%lu MiB at 0x%lx is not in RAM", cfg.size, free_start);
	if (cfg.work == WORK_TOUCH) {
		uint64_t first = cfg.start * MIB, span = ((cfg.pages - 1) * cfg.stride + 1) * PAGE;
		if (first < free_start)
			fail(EXIT_BADCONF, "touch: start=%lu MiB overlaps the guest image (free from 0x%lx)",
			     cfg.start, free_start);
		if (!ram_contains(first, span))
			fail(EXIT_BADCONF, "touch: 0x%lx+0x%lx is not in RAM", first, span);
	}
}

/* Round trips into ring 0: SYS_TIME (a C handler) and SYS_CPU (3 instructions). */
void work_syscall(void)
{
	uint64_t n = cfg.iters, t0 = sys_time();
	for (uint64_t i = 0; i < n; i++)
		sys_time();
	uint64_t t1 = sys_time();
	for (uint64_t i = 0; i < n; i++)
		sys_cpu();
	uint64_t t2 = sys_time();
	printf("syscall: n=%lu time_ns=%lu cpu_ns=%lu\n", n, n ? (t1 - t0) / n : 0, n ? (t2 - t1) / n : 0);
	uint64_t a = sys_time(), b = clock_ns(), c = sys_time();
	if (b < a || b > c)
		fail(EXIT_FAILED, "syscall: ring-3 clock %lu outside [%lu, %lu]", b, a, c);
	finish(EXIT_POWEROFF);
}

/* Dirty rate MiB/s (one 8-byte store per 4 KiB page) cyclically across a
 * size MiB region placed right after the image; rate=0 means flat out. */
void work_mem(void)
{
	uint64_t base = free_start, npages = cfg.size * MIB / PAGE;
	uint64_t pps = cfg.rate * (MIB / PAGE);
	printf("mem: region=0x%lx size=%luMiB rate=%luMiB/s secs=%lu\n", base, cfg.size, cfg.rate, cfg.secs);

	uint64_t t0 = clock_ns(), last = t0, next = t0 + NS_PER_S;
	uint64_t total = 0, last_total = 0, page = 0, sec = 0;
	for (;;) {
		uint64_t t = clock_ns();
		if (t >= next) {
			uint64_t d = total - last_total;
			sec++;
			printf("mem: t=%lu dirtied=%lu total=%lu mibps=%lu\n", sec, d, total,
			       d * (PAGE / 1024) * NS_PER_S / (t - last) / 1024);
			last = t;
			last_total = total;
			next += NS_PER_S;
			if (next <= t)
				next = t + NS_PER_S;
		}
		if (cfg.secs && t - t0 >= cfg.secs * NS_PER_S)
			break;
		uint64_t n = 4096;
		if (pps) {
			uint64_t e = t - t0;
			uint64_t target = e / NS_PER_S * pps + e % NS_PER_S * pps / NS_PER_S;
			if (total >= target) {
				sys_wait();     /* next timer tick */
				continue;
			}
			if (target - total < n)
				n = target - total;
		}
		for (uint64_t i = 0; i < n; i++) {
			*(volatile uint64_t *)(base + page * PAGE) = total + i;
			if (++page == npages)
				page = 0;
		}
		total += n;
	}
	printf("mem: done dirtied=%lu secs=%lu\n", total, cfg.secs);
	finish(EXIT_POWEROFF);
}

/* One store to each of `pages` pages from start MiB, every `stride` pages. */
void work_touch(void)
{
	uint64_t first = cfg.start * MIB;
	for (uint64_t i = 0; i < cfg.pages; i++)
		*(volatile uint64_t *)(first + i * cfg.stride * PAGE) = i + 1;
	printf("touch: done first=0x%lx n=%lu stride=%lu\n", first, cfg.pages, cfg.stride);
	if (cfg.secs) {
		uint64_t t0 = clock_ns();
		while (clock_ns() - t0 < cfg.secs * NS_PER_S)
			sys_wait();
		finish(EXIT_POWEROFF);
	}
	finish(EXIT_STAY);
}

void work_idle(void)
{
	uint64_t t0 = clock_ns();
	if (!cfg.secs)
		for (;;)
			sys_wait();
	uint64_t k0 = sys_wait(), k = k0;
	while (clock_ns() - t0 < cfg.secs * NS_PER_S)
		k = sys_wait();
	printf("idle: secs=%lu ticks=%lu hz=%lu\n", cfg.secs, k - k0, cfg.hz);
	finish(EXIT_POWEROFF);
}

/* Every CPU increments its own counter; the BSP checks all of them moved. */
void work_smp(void)
{
	uint64_t before[JG_MAXCPU], ms = cfg.secs ? cfg.secs * 1000 : 500;
	if (ncpus < 2)
		fail(EXIT_FAILED, "smp: needs at least 2 cpus, %ld online", ncpus);
	for (long c = 0; c < ncpus; c++)
		before[c] = slots[c].counter;
	uint64_t t0 = clock_ns();
	while (clock_ns() - t0 < ms * 1000000) {
		for (int i = 0; i < (1 << 20); i++)
			slots[0].counter++;
	}
	int stuck = 0;
	for (long c = 0; c < ncpus; c++) {
		uint64_t d = slots[c].counter - before[c];
		printf("smp: cpu%ld %s count=%lu\n", c, d ? "progressed" : "stuck", d);
		stuck += !d;
	}
	if (stuck)
		fail(EXIT_FAILED, "smp: %d cpus made no progress", stuck);
	finish(EXIT_POWEROFF);
}

/* What the APs do, by workload. */
void ap_work(long cpu)
{
	if (cfg.work == WORK_SMP)
		for (;;)
			slots[cpu].counter++;
	if (cfg.work == WORK_CPU) {
		uint64_t ms, x = cpu_loop(cpu, cfg.iters, &ms);
		slots[cpu].result = x;
		slots[cpu].ms = ms;
		slots[cpu].done = 1;
	}
	for (;;)
		sys_wait();
}
