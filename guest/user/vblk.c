/*
 * virtio-blk (device id 2), synchronous: one request at a time as a chain of
 * three descriptors (header, data, status), completion polled on used.idx
 * (no interrupt is ever requested). Sector size 512.
 */
#include "guest.h"
#include "vnet.h"

#define VIRTIO_BLK_F_RO     5
#define VIRTIO_BLK_F_FLUSH  9
#define VIRTIO_BLK_T_IN     0
#define VIRTIO_BLK_T_OUT    1
#define VIRTIO_BLK_T_FLUSH  4
#define VIRTIO_BLK_T_GET_ID 8
#define BLK_TIMEOUT_NS      (10ull * 1000000000)

struct vq vblk_q;
uint64_t vblk_sectors;
int vblk_can_flush, vblk_ro;
static int broken;
static struct {
	uint32_t type, reserved;
	uint64_t sector;
} req __attribute__((aligned(16)));
static volatile uint8_t status __attribute__((aligned(16)));
static uint8_t scratch[512] __attribute__((aligned(512)));

int vblk_init(struct vdev *d)
{
	if (virtio_begin(d, 1ull << VIRTIO_BLK_F_RO | 1ull << VIRTIO_BLK_F_FLUSH | 1ull << VIRTIO_F_EVENT_IDX))
		return -1;
	if (virtio_queue(d, &vblk_q, 0, 16))
		return -1;
	vblk_ro = (int)(d->features >> VIRTIO_BLK_F_RO & 1);
	vblk_can_flush = (int)(d->features >> VIRTIO_BLK_F_FLUSH & 1);
	uint32_t lo = mmio_r32(d->base + VIRTIO_MMIO_CONFIG), hi = mmio_r32(d->base + VIRTIO_MMIO_CONFIG + 4);
	vblk_sectors = (uint64_t)hi << 32 | lo;
	vq_want_irq(&vblk_q, 0);
	virtio_driver_ok(d);
	return 0;
}

/* one request: header, optional data (len bytes, device-writable if in), status */
static int submit(uint32_t type, uint64_t sector, void *buf, uint32_t len, int in)
{
	struct vq *q = &vblk_q;
	if (broken)
		return -1;
	req.type = type;
	req.reserved = 0;
	req.sector = sector;
	status = 0xff;
	q->desc[0] = (struct vring_desc){ (uint64_t)&req, sizeof(req), VRING_DESC_F_NEXT, 1 };
	uint16_t st = 1;
	if (len) {
		q->desc[1] = (struct vring_desc){ (uint64_t)buf, len,
			(uint16_t)(VRING_DESC_F_NEXT | (in ? VRING_DESC_F_WRITE : 0)), 2 };
		st = 2;
	}
	q->desc[st] = (struct vring_desc){ (uint64_t)&status, 1, VRING_DESC_F_WRITE, 0 };
	q->avail->ring[q->avail_idx % q->num] = 0;
	q->avail_idx++;
	vq_publish(q);
	vq_kick(q);
	uint64_t t0 = clock_ns();
	while (!vq_has_used(q)) {
		__builtin_ia32_pause();
		if (clock_ns() - t0 > BLK_TIMEOUT_NS) {
			printf("vblk: no completion in 10 s; disk considered broken\n");
			broken = 1;
			return -1;
		}
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	q->last_used++;
	vq_want_irq(q, 0);
	return status;
}

int vblk_rw(int write, uint64_t sector, void *buf, uint32_t len)
{
	if (len % 512 || sector + len / 512 > vblk_sectors || (write && vblk_ro))
		return -1;
	while (len) {
		uint32_t n = len > (256u << 10) ? (256u << 10) : len;
		int r = submit(write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, sector, buf, n, !write);
		if (r)
			return r;
		sector += n / 512;
		buf = (uint8_t *)buf + n;
		len -= n;
	}
	return 0;
}

int vblk_flush(void)
{
	return vblk_can_flush ? submit(VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0) : 0;
}

int vblk_get_id(char id[21])
{
	memset(scratch, 0, 20);
	int r = submit(VIRTIO_BLK_T_GET_ID, 0, scratch, 20, 1);
	memcpy(id, scratch, 20);
	id[20] = 0;
	return r;
}

int vblk_bad(const char *mode)
{
	broken = 1;                 /* the synchronous path must not wait for it */
	return virtio_bad_chain(&vblk_q, 3, (uint64_t)scratch, mode);
}
