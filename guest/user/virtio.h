/* virtio 1.x over MMIO (version 2 register layout), split virtqueues.
 * All of it runs in ring 3; each register access is an exit (~30 us on the
 * PVM host), ring memory is plain RAM (native speed). */
#ifndef JG_VIRTIO_H
#define JG_VIRTIO_H
#include <stdint.h>

/* registers */
#define VIRTIO_MMIO_MAGIC          0x000
#define VIRTIO_MMIO_VERSION        0x004
#define VIRTIO_MMIO_DEVICE_ID      0x008
#define VIRTIO_MMIO_VENDOR_ID      0x00c
#define VIRTIO_MMIO_DEV_FEATURES   0x010
#define VIRTIO_MMIO_DEV_FEAT_SEL   0x014
#define VIRTIO_MMIO_DRV_FEATURES   0x020
#define VIRTIO_MMIO_DRV_FEAT_SEL   0x024
#define VIRTIO_MMIO_QUEUE_SEL      0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX  0x034
#define VIRTIO_MMIO_QUEUE_NUM      0x038
#define VIRTIO_MMIO_QUEUE_READY    0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY   0x050
#define VIRTIO_MMIO_INT_STATUS     0x060
#define VIRTIO_MMIO_INT_ACK        0x064
#define VIRTIO_MMIO_STATUS         0x070
#define VIRTIO_MMIO_QUEUE_DESC     0x080   /* low, high at +4 */
#define VIRTIO_MMIO_QUEUE_DRIVER   0x090
#define VIRTIO_MMIO_QUEUE_DEVICE   0x0a0
#define VIRTIO_MMIO_CONFIG_GEN     0x0fc
#define VIRTIO_MMIO_CONFIG         0x100
#define VIRTIO_MAGIC               0x74726976u  /* "virt" */

/* device status */
#define VIRTIO_S_ACK          1
#define VIRTIO_S_DRIVER       2
#define VIRTIO_S_DRIVER_OK    4
#define VIRTIO_S_FEATURES_OK  8
#define VIRTIO_S_NEEDS_RESET  64
#define VIRTIO_S_FAILED       128

/* feature bits */
#define VIRTIO_F_EVENT_IDX    29
#define VIRTIO_F_VERSION_1    32

/* descriptor flags */
#define VRING_DESC_F_NEXT     1
#define VRING_DESC_F_WRITE    2

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
struct vring_avail {
	uint16_t flags;
	volatile uint16_t idx;
	uint16_t ring[];       /* num entries, then used_event */
};
struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};
struct vring_used {
	uint16_t flags;
	volatile uint16_t idx;
	struct vring_used_elem ring[];  /* num entries, then avail_event */
};

#define VQ_MAX 256

struct vq {
	uint64_t base;           /* device registers */
	uint16_t index, num;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t avail_idx;      /* next avail index we publish */
	uint16_t kicked;         /* avail index at the last notify decision */
	uint16_t last_used;      /* next used index we consume */
	int event_idx;
	uint64_t notifies;       /* QueueNotify writes done */
	uint64_t kicks_saved;    /* notify decisions that needed no write */
};

struct vdev {
	uint64_t base;
	uint32_t size, irq, device_id;
	uint64_t features;       /* negotiated */
	int event_idx;
};

#define VIRTIO_MAX_DEVS 8
extern struct vdev vdevs[VIRTIO_MAX_DEVS];
extern int nvdevs;

static inline uint32_t mmio_r32(uint64_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_w32(uint64_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint8_t mmio_r8(uint64_t a) { return *(volatile uint8_t *)a; }

/* `virtio_mmio.device=<size>@<base>:<irq>` (size with K/M suffix allowed);
 * returns 0 on success */
int virtio_parse_device(const char *v, size_t n);
/* probe all declared devices (magic, version 2, device id) */
void virtio_probe(void);
/* reset, ACK|DRIVER, negotiate (want & offered; VERSION_1 required), FEATURES_OK.
 * Returns 0 or prints why and returns -1 (device left FAILED). */
int virtio_begin(struct vdev *d, uint64_t want);
/* set up queue qi with up to max entries in static memory; 0 or -1 */
int virtio_queue(struct vdev *d, struct vq *q, uint16_t qi, uint16_t max);
void virtio_driver_ok(struct vdev *d);

/* publish new avail entries (after writing ring slots from avail_idx on) */
static inline void vq_publish(struct vq *q)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
	q->avail->idx = q->avail_idx;
}
/* notify the device if it asked to be notified for the entries published
 * since the last call (VIRTIO_F_EVENT_IDX), or always without event idx */
void vq_kick(struct vq *q);
/* ask for an interrupt when the next used entry appears (event idx), or
 * suppress interrupts until far ahead */
static inline void vq_want_irq(struct vq *q, int on)
{
	if (q->event_idx)
		q->avail->ring[q->num] = on ? q->last_used : (uint16_t)(q->last_used + 0x8000);
	else
		q->avail->flags = on ? 0 : 1;      /* VRING_AVAIL_F_NO_INTERRUPT */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
static inline int vq_has_used(struct vq *q)
{
	return q->used->idx != q->last_used;
}
#endif
