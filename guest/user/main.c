/*
 * The ring-3 program: reads the PVH boot information, parses the command
 * line, starts the other CPUs through the kernel and runs one workload.
 */
#include "guest.h"

struct config cfg;
struct cpu_slot slots[JG_MAXCPU];
uint64_t free_start;
long ncpus = 1;

#define CMDLINE_MAX 4096
#define MEMMAP_MAX 64
static char cmdline[CMDLINE_MAX];
static struct hvm_memmap_entry memmap[MEMMAP_MAX];
static uint32_t memmap_n;

void fail(int code, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("jremus-guest: error: %s\n", buf);
	sys_exit(code);
}

void finish(int default_mode)
{
	int mode = cfg.has_exit ? cfg.exit_mode : default_mode;
	printf("jremus-guest: done\n");
	if (mode == EXIT_POWEROFF)
		sys_exit(EXIT_OK);
	if (mode == EXIT_REBOOT)
		sys_reboot();
	for (;;)
		sys_wait();
}

int ram_contains(uint64_t addr, uint64_t len)
{
	for (uint32_t i = 0; i < memmap_n; i++)
		if (memmap[i].type == 1 && addr >= memmap[i].addr &&
		    addr + len >= addr && addr + len <= memmap[i].addr + memmap[i].size)
			return 1;
	return 0;
}

/* Copy what the loader gave us before anything can overwrite low memory. */
static void read_boot_info(const struct jg_kinfo *ki)
{
	const struct hvm_start_info *si = (const void *)ki->start_info;
	if (!si || si->magic != HVM_START_MAGIC)
		fail(EXIT_BADCONF, "no hvm_start_info (ebx=0x%lx)", ki->start_info);
	if (si->cmdline_paddr) {
		const char *c = (const char *)si->cmdline_paddr;
		size_t n = 0;
		while (n < CMDLINE_MAX - 1 && c[n])
			n++;
		memcpy(cmdline, c, n);
	}
	if (si->version >= 1 && si->memmap_paddr) {
		memmap_n = si->memmap_entries < MEMMAP_MAX ? si->memmap_entries : MEMMAP_MAX;
		memcpy(memmap, (const void *)si->memmap_paddr, memmap_n * sizeof(memmap[0]));
	}
}

static int is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && !strncmp(s, word, n);
}

static uint64_t num(const char *key, const char *v, size_t n, uint64_t lo, uint64_t hi)
{
	uint64_t x;
	if (parse_u64(v, n, &x) || x < lo || x > hi)
		fail(EXIT_BADCONF, "bad value for %s= (want %lu..%lu)", key, lo, hi);
	return x;
}

static void parse_cmdline(const char *s)
{
	int has_start = 0, has_pages = 0;
	cfg.work = WORK_IDLE;
	cfg.iters = 100000000;
	cfg.rate = 100;
	cfg.size = 64;
	cfg.stride = 1;
	cfg.hz = 100;
	while (*s) {
		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (!*s)
			break;
		const char *k = s, *eq = 0;
		while (*s && *s != ' ' && *s != '\t' && *s != '\n') {
			if (*s == '=' && !eq)
				eq = s;
			s++;
		}
		size_t kn = (size_t)((eq ? eq : s) - k);
		int dotted = 0;
		for (size_t i = 0; i < kn; i++)
			dotted |= k[i] == '.';
		if (dotted)             /* module.param=...: for drivers (e.g. virtio_mmio.device) */
			continue;
		char key[32];
		size_t cn = kn < sizeof(key) - 1 ? kn : sizeof(key) - 1;
		memcpy(key, k, cn);
		key[cn] = 0;
		if (!eq)
			fail(EXIT_BADCONF, "option without value: %s", key);
		const char *v = eq + 1;
		size_t vn = (size_t)(s - v);
		if (is(k, kn, "work")) {
			if (is(v, vn, "cpu")) cfg.work = WORK_CPU;
			else if (is(v, vn, "mem")) cfg.work = WORK_MEM;
			else if (is(v, vn, "touch")) cfg.work = WORK_TOUCH;
			else if (is(v, vn, "idle")) cfg.work = WORK_IDLE;
			else if (is(v, vn, "smp")) cfg.work = WORK_SMP;
			else if (is(v, vn, "syscall")) cfg.work = WORK_SYSCALL;
			else fail(EXIT_BADCONF, "unknown work= (cpu|mem|touch|idle|smp|syscall)");
		} else if (is(k, kn, "exit")) {
			if (is(v, vn, "poweroff")) cfg.exit_mode = EXIT_POWEROFF;
			else if (is(v, vn, "reboot")) cfg.exit_mode = EXIT_REBOOT;
			else if (is(v, vn, "stay")) cfg.exit_mode = EXIT_STAY;
			else fail(EXIT_BADCONF, "unknown exit= (poweroff|reboot|stay)");
			cfg.has_exit = 1;
		} else if (is(k, kn, "iters")) {
			cfg.iters = num(key, v, vn, 0, UINT64_MAX);
		} else if (is(k, kn, "rate")) {
			cfg.rate = num(key, v, vn, 0, 1 << 20);
		} else if (is(k, kn, "size")) {
			cfg.size = num(key, v, vn, 1, 1 << 20);
		} else if (is(k, kn, "start")) {
			cfg.start = num(key, v, vn, 0, 1 << 20);
			has_start = 1;
		} else if (is(k, kn, "pages")) {
			cfg.pages = num(key, v, vn, 1, 1ull << 28);
			has_pages = 1;
		} else if (is(k, kn, "stride")) {
			cfg.stride = num(key, v, vn, 1, 1ull << 28);
		} else if (is(k, kn, "secs")) {
			cfg.secs = num(key, v, vn, 1, 1ull << 32);
		} else if (is(k, kn, "cpus")) {
			cfg.cpus = num(key, v, vn, 1, JG_MAXCPU);
		} else if (is(k, kn, "hz")) {
			cfg.hz = num(key, v, vn, 1, 10000);
		} else {
			fail(EXIT_BADCONF, "unknown option %s=", key);
		}
	}
	if (cfg.work == WORK_TOUCH && (!has_start || !has_pages))
		fail(EXIT_BADCONF, "work=touch needs start= and pages=");
}

int user_main(void)
{
	const struct jg_kinfo *ki = sys_kinfo();
	read_boot_info(ki);
	free_start = (ki->image_end + (1 << 20) - 1) & ~(uint64_t)((1 << 20) - 1);

	printf("jremus-guest: cmdline=\"%s\"\n", cmdline);
	uint64_t ram = 0;
	for (uint32_t i = 0; i < memmap_n; i++)
		if (memmap[i].type == 1)
			ram += memmap[i].size;
	printf("jremus-guest: memmap entries=%u ram=%luKiB free=0x%lx lapic_hz=%lu\n",
	       memmap_n, ram >> 10, free_start, ki->lapic_hz);
	for (uint32_t i = 0; i < memmap_n; i++)
		printf("jremus-guest: memmap 0x%012lx-0x%012lx type=%u\n", memmap[i].addr,
		       memmap[i].addr + memmap[i].size, memmap[i].type);

	parse_cmdline(cmdline);
	if (memmap_n == 0 && (cfg.work == WORK_MEM || cfg.work == WORK_TOUCH))
		fail(EXIT_BADCONF, "no memory map in hvm_start_info");
	work_validate();
	if (cfg.hz != 100 && sys_timer((long)cfg.hz))
		fail(EXIT_BADCONF, "hz=%lu refused", cfg.hz);

	uint64_t want = cfg.cpus ? cfg.cpus : JG_MAXCPU;
	if (want > 1)
		ncpus = sys_smp_start((long)want, cfg.cpus ? 2000 : 100);
	printf("smp: %ld cpus online\n", ncpus);
	if (cfg.cpus && (uint64_t)ncpus != cfg.cpus)
		fail(EXIT_FAILED, "cpus=%lu requested, %ld online", cfg.cpus, ncpus);

	printf("jremus-guest: ready\n");
	switch (cfg.work) {
	case WORK_CPU: work_cpu();
	case WORK_MEM: work_mem();
	case WORK_TOUCH: work_touch();
	case WORK_SMP: work_smp();
	case WORK_SYSCALL: work_syscall();
	case WORK_IDLE: break;
	}
	work_idle();
}

void user_ap_main(long cpu)
{
	ap_work(cpu);
}
