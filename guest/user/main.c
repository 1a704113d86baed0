/*
 * The ring-3 program: reads the PVH boot information, parses the command
 * line, starts the other CPUs through the kernel and runs one workload.
 */
#include "guest.h"
#include "kv.h"
#include "server.h"
#include "vnet.h"

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

/* a.b.c.d, optionally /prefix; 0 on success */
static int parse_ip(const char *v, size_t n, uint32_t *ip, uint32_t *mask)
{
	uint32_t a = 0;
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		size_t s = i;
		while (i < n && v[i] >= '0' && v[i] <= '9')
			i++;
		uint64_t x;
		if (i == s || i - s > 3 || parse_u64(v + s, i - s, &x) || x > 255)
			return -1;
		a = a << 8 | (uint32_t)x;
		if (part < 3) {
			if (i >= n || v[i] != '.')
				return -1;
			i++;
		}
	}
	*ip = a;
	if (i == n)
		return mask ? -1 : 0;
	uint64_t pfx;
	if (!mask || v[i] != '/' || parse_u64(v + i + 1, n - i - 1, &pfx) || pfx < 1 || pfx > 32)
		return -1;
	*mask = (uint32_t)(0xffffffffull << (32 - pfx));
	return 0;
}

static char bad_mode[16];

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
	cfg.heap = 64;
	net_ip = 0x0a4d0002;            /* 10.77.0.2/24 */
	net_mask = 0xffffff00;
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
		if (dotted) {           /* module.param=...: for drivers */
			if (eq && (size_t)(eq - k) == strlen("virtio_mmio.device") &&
			    !strncmp(k, "virtio_mmio.device", (size_t)(eq - k))) {
				if (virtio_parse_device(eq + 1, (size_t)(s - eq - 1)))
					fail(EXIT_BADCONF, "bad virtio_mmio.device= (want <size>@<base>:<irq>)");
			}
			continue;       /* other dotted keys are ignored */
		}
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
			else if (is(v, vn, "redis")) cfg.work = WORK_REDIS;
			else fail(EXIT_BADCONF, "unknown work= (cpu|mem|touch|idle|smp|syscall|redis)");
			cfg.has_work = 1;
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
		} else if (is(k, kn, "heap")) {
			cfg.heap = num(key, v, vn, 4, 1 << 16);
		} else if (is(k, kn, "ip")) {
			if (parse_ip(v, vn, &net_ip, &net_mask))
				fail(EXIT_BADCONF, "bad ip= (want a.b.c.d/prefix)");
		} else if (is(k, kn, "gw")) {
			if (parse_ip(v, vn, &net_gw, 0))
				fail(EXIT_BADCONF, "bad gw= (want a.b.c.d)");
		} else if (is(k, kn, "netpoll")) {
			if (is(v, vn, "irq")) net_poll_mode = 0;
			else if (is(v, vn, "tick")) net_poll_mode = 1;
			else if (is(v, vn, "spin")) net_poll_mode = 2;
			else fail(EXIT_BADCONF, "unknown netpoll= (irq|tick|spin)");
		} else if (is(k, kn, "spin")) {
			net_spin_us = num(key, v, vn, 0, 10000000);
		} else if (is(k, kn, "virtio_bad")) {
			if (!is(v, vn, "loop") && !is(v, vn, "oob") && !is(v, vn, "len") && !is(v, vn, "next") &&
			    !is(v, vn, "idx"))
				fail(EXIT_BADCONF, "unknown virtio_bad= (loop|oob|len|next|idx)");
			memcpy(bad_mode, v, vn);
			bad_mode[vn] = 0;
			virtio_bad_mode = bad_mode;
		} else if (is(k, kn, "virtio_bad_dev")) {
			if (is(v, vn, "net")) virtio_bad_blk = 0;
			else if (is(v, vn, "blk")) virtio_bad_blk = 1;
			else fail(EXIT_BADCONF, "unknown virtio_bad_dev= (net|blk)");
		} else if (is(k, kn, "virtio_bad_ms")) {
			virtio_bad_ms = num(key, v, vn, 0, 1ull << 32);
		} else {
			fail(EXIT_BADCONF, "unknown option %s=", key);
		}
	}
	if (!cfg.has_work && nvdevs)
		cfg.work = WORK_REDIS;  /* decided for certain once the devices are probed */
	if (cfg.work == WORK_TOUCH && (!has_start || !has_pages))
		fail(EXIT_BADCONF, "work=touch needs start= and pages=");
}

/* work=redis: probe the virtio-mmio devices, start the first net and blk
 * device, place the key-value heap and the background region */
static void redis_devices(void)
{
	virtio_probe();
	int have_net = 0, have_blk = 0;
	for (int i = 0; i < nvdevs; i++) {
		struct vdev *d = &vdevs[i];
		if (d->device_id == 1 && !have_net) {
			if (vnet_init(d))
				fail(EXIT_FAILED, "virtio-net at 0x%lx failed to start", d->base);
			have_net = 1;
		} else if (d->device_id == 2 && !have_blk) {
			if (vblk_init(d))
				printf("vblk: device at 0x%lx failed to start: no disk\n", d->base);
			else
				printf("vblk: %lu sectors (%lu MiB)%s%s\n", vblk_sectors, vblk_sectors >> 11,
				       vblk_ro ? " read-only" : "", vblk_can_flush ? " flush" : " no-flush(write-through)");
			have_blk = 1;
		}
	}
	if (!have_net) {
		if (cfg.has_work)
			fail(EXIT_BADCONF, "work=redis needs a virtio-net device (virtio_mmio.device=...)");
		cfg.work = WORK_IDLE;   /* no NIC: the old default */
		return;
	}
	uint64_t hb = cfg.heap << 20;
	if (!ram_contains(free_start, hb))
		fail(EXIT_BADCONF, "heap=%lu MiB at 0x%lx is not in RAM", cfg.heap, free_start);
	heap_init(free_start, hb);
	bg_region = free_start + hb;
	bg_size = cfg.size << 20;
	if (!ram_contains(bg_region, bg_size))
		bg_size = 0;            /* DEBUG WORKLOAD mem will be refused */
	printf("redis: heap=0x%lx+%luMiB workload-region=0x%lx+%luMiB\n", free_start, cfg.heap, bg_region,
	       bg_size >> 20);
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
	if (cfg.work == WORK_REDIS)
		redis_devices();
	if (cfg.hz != 100 && sys_timer((long)cfg.hz))
		fail(EXIT_BADCONF, "hz=%lu refused", cfg.hz);

	uint64_t want = cfg.cpus ? cfg.cpus : JG_MAXCPU;
	if (want > 1)
		ncpus = sys_smp_start((long)want, cfg.cpus ? 2000 : 100);
	printf("smp: %ld cpus online\n", ncpus);
	if (cfg.work == WORK_REDIS)
		bg_cpu = ncpus > 1;
	if (cfg.cpus && (uint64_t)ncpus != cfg.cpus)
		fail(EXIT_FAILED, "cpus=%lu requested, %ld online", cfg.cpus, ncpus);

	printf("jremus-guest: ready\n");
	switch (cfg.work) {
	case WORK_CPU: work_cpu();
	case WORK_MEM: work_mem();
	case WORK_TOUCH: work_touch();
	case WORK_SMP: work_smp();
	case WORK_SYSCALL: work_syscall();
	case WORK_REDIS: work_redis();
	case WORK_IDLE: break;
	}
	work_idle();
}

void user_ap_main(long cpu)
{
	if (cfg.work == WORK_REDIS)
		bg_ap(cpu);
	ap_work(cpu);
}
