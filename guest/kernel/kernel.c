/*
 * The ring-0 kernel: per-CPU setup (GDT TSS, IDT, LAPIC, kvmclock), AP
 * start-up, the system calls written in C, and the panic path. It never
 * parses the command line: that and all other work is done by the ring-3
 * program (see user/), because ring-0 code is interpreted on the PVM host.
 */
#include "kernel.h"

struct jg_kinfo kinfo;

static struct percpu percpu[JG_MAXCPU];
static struct gate {
	uint16_t off0, sel;
	uint8_t ist, attr;
	uint16_t off1;
	uint32_t off2, rsvd;
} idt[256] __attribute__((aligned(16)));
static struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr;

static uint64_t boot_ns;
static uint32_t timer_count;
static int smp_started;

_Static_assert(__builtin_offsetof(struct percpu, pv) == PC_PVCLOCK, "pv");
_Static_assert(__builtin_offsetof(struct percpu, ticks) == PC_TICKS, "ticks");
_Static_assert(__builtin_offsetof(struct percpu, cpu) == PC_CPU, "cpu");
_Static_assert(__builtin_offsetof(struct percpu, self) == PC_SELF, "self");
_Static_assert(__builtin_offsetof(struct percpu, tss) == PC_TSS, "tss");
_Static_assert(sizeof(struct percpu) == PC_SIZE, "size");
_Static_assert(__builtin_offsetof(struct jg_kinfo, irq_total) == KI_IRQ_TOTAL, "irq_total");
_Static_assert(__builtin_offsetof(struct jg_kinfo, irq_isr0) == KI_IRQ_ISR0, "irq_isr0");

/* virtio-mmio register blocks the device interrupt handlers acknowledge */
uint64_t irq_base[JG_IRQ_SLOTS];

/* ---- instructions ---- */
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
static inline void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}
static inline struct percpu *this_cpu(void)
{
	struct percpu *p;
	__asm__ volatile("movq %%gs:%c1, %0" : "=r"(p) : "i"(PC_SELF));
	return p;
}
static inline uint32_t lapic_r(uint32_t reg) { return *(volatile uint32_t *)(uint64_t)(LAPIC_BASE + reg); }
static inline void lapic_w(uint32_t reg, uint32_t v) { *(volatile uint32_t *)(uint64_t)(LAPIC_BASE + reg) = v; }
static inline void kcopy(void *d, const void *s, uint64_t n)
{
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) :: "memory");
}

/* ---- serial output for the panic path only ---- */
static void kwrite(const char *s, uint64_t n)
{
	__asm__ volatile("rep outsb" : "+S"(s), "+c"(n) : "d"(0x3f8) : "memory");
}
static void kputs(const char *s)
{
	uint64_t n = 0;
	while (s[n])
		n++;
	kwrite(s, n);
}
static void kputx(const char *label, uint64_t v)
{
	char b[20];
	int i;
	kputs(label);
	b[0] = '0';
	b[1] = 'x';
	for (i = 0; i < 16; i++)
		b[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 15];
	kwrite(b, 18);
}

static void __attribute__((noreturn)) kpanic(const char *msg)
{
	kputs("jremus-guest: PANIC: ");
	kputs(msg);
	kputs("\n");
	__asm__ volatile("outl %0, $0xf4" :: "a"(3));
	for (;;)
		__asm__ volatile("cli; hlt");
}

void __attribute__((noreturn)) kpanic_trap(struct trapframe *f)
{
	uint64_t cr2;
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	kputs("jremus-guest: PANIC: trap");
	kputx(" vec=", f->vec);
	kputx(" err=", f->err);
	kputx(" rip=", f->rip);
	kputx(" cs=", f->cs);
	kputx(" rsp=", f->rsp);
	kputx(" cr2=", cr2);
	kputx(" rax=", f->rax);
	kputs("\n");
	kpanic("unexpected exception");
}

/* ---- kvmclock ---- */
static uint64_t kvmclock_raw(void)
{
	volatile struct pvclock *pv = &this_cpu()->pv;
	uint32_t v;
	uint64_t t;
	do {
		v = pv->version;
		__asm__ volatile("" ::: "memory");
		uint64_t d = rdtsc() - pv->tsc_timestamp;
		int8_t s = pv->tsc_shift;
		if (s >= 0)
			d <<= s;
		else
			d >>= -s;
		t = pv->system_time + (uint64_t)(((unsigned __int128)d * pv->tsc_to_system_mul) >> 32);
		__asm__ volatile("" ::: "memory");
	} while ((v & 1) || v != pv->version);
	return t;
}

uint64_t ksys_time(void)
{
	return kvmclock_raw() - boot_ns;
}

static void kvmclock_detect(void)
{
	uint32_t r[4];
	cpuid(0x40000000, r);
	if (r[1] != 0x4b4d564b || r[2] != 0x564b4d56 || r[3] != 0x4d)   /* "KVMKVMKVM\0\0\0" */
		kpanic("no KVM CPUID signature at 0x40000000 (kvmclock needed)");
	cpuid(0x40000001, r);
	if (r[0] & (1u << 3))
		kinfo.kvmclock_msr = 0x4b564d01;       /* MSR_KVM_SYSTEM_TIME_NEW */
	else if (r[0] & 1u)
		kinfo.kvmclock_msr = 0x12;             /* MSR_KVM_SYSTEM_TIME */
	else
		kpanic("KVM offers no kvmclock (CPUID 0x40000001)");
}

/* ---- per-CPU setup ---- */
static void set_gate(int vec, void *handler, int dpl)
{
	uint64_t a = (uint64_t)handler;
	struct gate *g = &idt[vec];
	g->off0 = (uint16_t)a;
	g->sel = JG_KCODE;
	g->ist = 0;
	g->attr = (uint8_t)(0x8e | (dpl << 5));
	g->off1 = (uint16_t)(a >> 16);
	g->off2 = (uint32_t)(a >> 32);
	g->rsvd = 0;
}

static void cpu_init(uint32_t n)
{
	struct percpu *pc = &percpu[n];
	uint64_t base = (uint64_t)pc->tss;
	uint64_t rsp0 = (uint64_t)kstacks + (uint64_t)(n + 1) * JG_KSTACK;
	uint16_t sel = (uint16_t)(JG_TSS0 + 16 * n);

	pc->cpu = n;
	pc->self = pc;
	wrmsr(0xc0000101, (uint64_t)pc);               /* GS base */

	__builtin_memcpy(pc->tss + 4, &rsp0, 8);       /* RSP0 */
	pc->tss[102] = 104;                            /* I/O map base: none */
	gdt[sel / 8] = 103 | ((base & 0xffffff) << 16) | (0x89ull << 40) | (((base >> 24) & 0xff) << 56);
	gdt[sel / 8 + 1] = base >> 32;
	__asm__ volatile("ltr %0" :: "r"(sel));
	__asm__ volatile("lidt %0" :: "m"(idtr));

	wrmsr((uint32_t)kinfo.kvmclock_msr, (uint64_t)&pc->pv | 1);

	lapic_w(0x80, 0);                              /* TPR */
	lapic_w(0xf0, 0x100 | VEC_SPURIOUS);           /* SVR: enable */
	lapic_w(0x3e0, 0xb);                           /* divide by 1 */
}

static void timer_start(void)
{
	lapic_w(0x320, (1u << 17) | VEC_TIMER);        /* periodic */
	lapic_w(0x380, timer_count);
}

static void timer_calibrate(void)
{
	uint64_t t0, t1;
	uint32_t c0, c1;
	lapic_w(0x320, (1u << 16) | VEC_TIMER);        /* masked, one-shot */
	lapic_w(0x380, 0xffffffffu);
	/* each count is read the same few instructions after its clock read */
	t0 = kvmclock_raw();
	c0 = lapic_r(0x390);
	do
		t1 = kvmclock_raw();
	while (t1 - t0 < 2000000);                     /* 2 ms */
	c1 = lapic_r(0x390);
	kinfo.lapic_hz = (uint64_t)(c0 - c1) * 1000000000ull / (t1 - t0);
}

uint64_t ksys_timer(uint64_t hz)
{
	if (hz < 1 || hz > 10000)
		return (uint64_t)-1;
	kinfo.hz = (uint32_t)hz;
	timer_count = (uint32_t)(kinfo.lapic_hz / hz);
	timer_start();
	return 0;
}

/* IOAPIC: one RTE, level-triggered, active high, fixed delivery to this CPU. */
static void ioapic_w(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(uint64_t)JG_IOAPIC = reg;
	*(volatile uint32_t *)(uint64_t)(JG_IOAPIC + 0x10) = v;
}
static uint32_t ioapic_r(uint32_t reg)
{
	*(volatile uint32_t *)(uint64_t)JG_IOAPIC = reg;
	return *(volatile uint32_t *)(uint64_t)(JG_IOAPIC + 0x10);
}

uint64_t ksys_irq_route(uint64_t gsi, uint64_t slot, uint64_t base)
{
	uint32_t max = (ioapic_r(1) >> 16) & 0xff;
	if (slot >= JG_IRQ_SLOTS || gsi > max || !base)
		return (uint64_t)-1;
	irq_base[slot] = base;
	ioapic_w(0x10 + 2 * (uint32_t)gsi, 1u << 16);                 /* masked while changing */
	ioapic_w(0x11 + 2 * (uint32_t)gsi, lapic_r(0x20) & 0xff000000); /* destination: this APIC */
	ioapic_w(0x10 + 2 * (uint32_t)gsi, (1u << 15) | (JG_VEC_IRQ0 + (uint32_t)slot));
	return 0;
}

static void user_entry(uint32_t n) __attribute__((noreturn));
static void user_entry(uint32_t n)
{
	enter_user((uint64_t)_ustart, (uint64_t)ustacks + (uint64_t)(n + 1) * JG_USTACK, n);
}

void kmain(void)
{
	kinfo.start_info = pvh_start_info;
	kinfo.image_end = (uint64_t)_end;
	kinfo.maxcpu = JG_MAXCPU;
	kinfo.online = 1;
	kinfo.pvclock = (uint64_t)&percpu[0].pv;
	kinfo.pvclock_stride = sizeof(struct percpu);

	for (int v = 0; v < 32; v++)
		set_gate(v, exc_stubs[v], 0);
	set_gate(6, ud_entry, 0);
	set_gate(VEC_TIMER, timer_entry, 0);
	set_gate(VEC_SYSCALL, syscall_entry, 3);
	set_gate(VEC_SPURIOUS, spurious_entry, 0);
	for (int i = 0; i < JG_IRQ_SLOTS; i++)
		set_gate(JG_VEC_IRQ0 + i, irq_stubs[i], 0);
	idtr.limit = sizeof(idt) - 1;
	idtr.base = (uint64_t)idt;

	outb(0x21, 0xff);                              /* mask both 8259s */
	outb(0xa1, 0xff);

	kvmclock_detect();
	cpu_init(0);
	boot_ns = kinfo.boot_ns = kvmclock_raw();
	timer_calibrate();
	ksys_timer(100);
	user_entry(0);
}

void ap_main(uint32_t n)
{
	cpu_init(n);
	timer_start();
	__atomic_add_fetch(&kinfo.online, 1, __ATOMIC_SEQ_CST);
	user_entry(n);
}

static void icr_send(uint32_t low)
{
	lapic_w(0x310, 0);
	lapic_w(0x300, low);
	while (lapic_r(0x300) & (1u << 12))            /* delivery pending */
		;
}

static void delay_ns(uint64_t ns)
{
	uint64_t t0 = kvmclock_raw();
	while (kvmclock_raw() - t0 < ns)
		;
}

/* Start every AP with a broadcast INIT-SIPI-SIPI; APs beyond max_cpus park.
 * Returns the CPUs online after all max_cpus checked in or the timeout. */
uint64_t ksys_smp_start(uint64_t max_cpus, uint64_t timeout_ms)
{
	if (smp_started || max_cpus <= 1)
		return __atomic_load_n(&kinfo.online, __ATOMIC_SEQ_CST);
	smp_started = 1;
	if (max_cpus > JG_MAXCPU)
		max_cpus = JG_MAXCPU;
	ap_max = (uint32_t)max_cpus;
	ap_next = 1;                                   /* in case the image was not reloaded */
	kcopy((void *)JG_TRAMPOLINE, tramp_start, (uint64_t)(tramp_end - tramp_start));

	icr_send(0x000c4500);                          /* INIT, all excluding self */
	delay_ns(10000000);
	icr_send(0x000c4600 | (JG_TRAMPOLINE >> 12));  /* SIPI */
	delay_ns(200000);
	icr_send(0x000c4600 | (JG_TRAMPOLINE >> 12));

	uint64_t t0 = kvmclock_raw();
	while (__atomic_load_n(&kinfo.online, __ATOMIC_SEQ_CST) < max_cpus &&
	       kvmclock_raw() - t0 < timeout_ms * 1000000ull)
		;
	return __atomic_load_n(&kinfo.online, __ATOMIC_SEQ_CST);
}
