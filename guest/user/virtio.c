/* virtio-mmio transport: discovery from the command line, initialisation,
 * split virtqueues in static memory. */
#include "guest.h"
#include "virtio.h"

struct vdev vdevs[VIRTIO_MAX_DEVS];
int nvdevs;

/* ring memory: per queue one page of descriptors, one for avail, one for used */
#define VQ_POOL 12
static uint8_t ring_pool[VQ_POOL][3][4096] __attribute__((aligned(4096)));
static int ring_used;

static int parse_num(const char *s, size_t n, uint64_t *out)
{
	uint64_t mul = 1;
	if (n && (s[n - 1] == 'K' || s[n - 1] == 'k'))
		mul = 1024, n--;
	else if (n && (s[n - 1] == 'M' || s[n - 1] == 'm'))
		mul = 1024 * 1024, n--;
	if (parse_u64(s, n, out))
		return -1;
	*out *= mul;
	return 0;
}

int virtio_parse_device(const char *v, size_t n)
{
	size_t at = 0, colon = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '@' && !at)
			at = i;
		else if (v[i] == ':' && at)
			colon = i;
	}
	if (!at || !colon || nvdevs == VIRTIO_MAX_DEVS)
		return -1;
	uint64_t size, base, irq;
	if (parse_num(v, at, &size) || parse_u64(v + at + 1, colon - at - 1, &base) ||
	    parse_u64(v + colon + 1, n - colon - 1, &irq))
		return -1;
	if (size < 0x100 || base & 3 || base + size > (1ull << 32) || irq > 255)
		return -1;
	struct vdev *d = &vdevs[nvdevs++];
	d->base = base;
	d->size = (uint32_t)size;
	d->irq = (uint32_t)irq;
	return 0;
}

void virtio_probe(void)
{
	for (int i = 0; i < nvdevs; i++) {
		struct vdev *d = &vdevs[i];
		uint32_t magic = mmio_r32(d->base + VIRTIO_MMIO_MAGIC);
		uint32_t ver = mmio_r32(d->base + VIRTIO_MMIO_VERSION);
		d->device_id = magic == VIRTIO_MAGIC && ver == 2 ? mmio_r32(d->base + VIRTIO_MMIO_DEVICE_ID) : 0;
		printf("virtio: mmio 0x%lx size 0x%x irq %u: magic 0x%x version %u device %u\n",
		       d->base, d->size, d->irq, magic, ver, d->device_id);
		if (magic == VIRTIO_MAGIC && ver == 1)
			printf("virtio: legacy (version 1) transport not supported; QEMU: -global virtio-mmio.force-legacy=false\n");
	}
}

int virtio_begin(struct vdev *d, uint64_t want)
{
	uint64_t b = d->base;
	mmio_w32(b + VIRTIO_MMIO_STATUS, 0);
	mmio_w32(b + VIRTIO_MMIO_STATUS, VIRTIO_S_ACK | VIRTIO_S_DRIVER);
	mmio_w32(b + VIRTIO_MMIO_DEV_FEAT_SEL, 0);
	uint64_t f = mmio_r32(b + VIRTIO_MMIO_DEV_FEATURES);
	mmio_w32(b + VIRTIO_MMIO_DEV_FEAT_SEL, 1);
	f |= (uint64_t)mmio_r32(b + VIRTIO_MMIO_DEV_FEATURES) << 32;
	if (!(f >> VIRTIO_F_VERSION_1 & 1)) {
		printf("virtio: device at 0x%lx lacks VERSION_1 (features 0x%lx)\n", b, f);
		mmio_w32(b + VIRTIO_MMIO_STATUS, VIRTIO_S_FAILED);
		return -1;
	}
	d->features = f & (want | 1ull << VIRTIO_F_VERSION_1);
	d->event_idx = (int)(d->features >> VIRTIO_F_EVENT_IDX & 1);
	mmio_w32(b + VIRTIO_MMIO_DRV_FEAT_SEL, 0);
	mmio_w32(b + VIRTIO_MMIO_DRV_FEATURES, (uint32_t)d->features);
	mmio_w32(b + VIRTIO_MMIO_DRV_FEAT_SEL, 1);
	mmio_w32(b + VIRTIO_MMIO_DRV_FEATURES, (uint32_t)(d->features >> 32));
	mmio_w32(b + VIRTIO_MMIO_STATUS, VIRTIO_S_ACK | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK);
	if (!(mmio_r32(b + VIRTIO_MMIO_STATUS) & VIRTIO_S_FEATURES_OK)) {
		printf("virtio: device at 0x%lx refused features 0x%lx\n", b, d->features);
		mmio_w32(b + VIRTIO_MMIO_STATUS, VIRTIO_S_FAILED);
		return -1;
	}
	printf("virtio: device at 0x%lx offered 0x%lx, negotiated 0x%lx\n", b, f, d->features);
	return 0;
}

static void w64(uint64_t reg, uint64_t v)
{
	mmio_w32(reg, (uint32_t)v);
	mmio_w32(reg + 4, (uint32_t)(v >> 32));
}

int virtio_queue(struct vdev *d, struct vq *q, uint16_t qi, uint16_t max)
{
	uint64_t b = d->base;
	mmio_w32(b + VIRTIO_MMIO_QUEUE_SEL, qi);
	uint32_t nmax = mmio_r32(b + VIRTIO_MMIO_QUEUE_NUM_MAX);
	if (nmax == 0 || ring_used == VQ_POOL) {
		printf("virtio: device at 0x%lx has no queue %u\n", b, qi);
		return -1;
	}
	uint16_t num = max;
	if (num > VQ_MAX)
		num = VQ_MAX;
	while (num > nmax)             /* a power of 2 not above the device's maximum */
		num >>= 1;
	uint8_t (*mem)[4096] = ring_pool[ring_used++];
	memset(mem, 0, 3 * 4096);
	memset(q, 0, sizeof(*q));
	q->base = b;
	q->index = qi;
	q->num = num;
	q->desc = (struct vring_desc *)mem[0];
	q->avail = (struct vring_avail *)mem[1];
	q->used = (struct vring_used *)mem[2];
	q->event_idx = d->event_idx;
	mmio_w32(b + VIRTIO_MMIO_QUEUE_NUM, num);
	w64(b + VIRTIO_MMIO_QUEUE_DESC, (uint64_t)q->desc);
	w64(b + VIRTIO_MMIO_QUEUE_DRIVER, (uint64_t)q->avail);
	w64(b + VIRTIO_MMIO_QUEUE_DEVICE, (uint64_t)q->used);
	mmio_w32(b + VIRTIO_MMIO_QUEUE_READY, 1);
	return 0;
}

void virtio_driver_ok(struct vdev *d)
{
	mmio_w32(d->base + VIRTIO_MMIO_STATUS,
		 VIRTIO_S_ACK | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK | VIRTIO_S_DRIVER_OK);
}

void vq_kick(struct vq *q)
{
	uint16_t old = q->kicked, now = q->avail_idx;
	if (old == now)
		return;
	q->kicked = now;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);  /* avail idx store before the avail_event / flags load */
	int need;
	if (q->event_idx) {
		uint16_t ev = *(volatile uint16_t *)((uint8_t *)q->used + 4 + 8 * (uint64_t)q->num);
		need = (uint16_t)(now - ev - 1) < (uint16_t)(now - old);
	} else {
		need = !(*(volatile uint16_t *)&q->used->flags & 1);   /* VRING_USED_F_NO_NOTIFY */
	}
	if (need) {
		mmio_w32(q->base + VIRTIO_MMIO_QUEUE_NOTIFY, q->index);
		q->notifies++;
	} else {
		q->kicks_saved++;
	}
}
