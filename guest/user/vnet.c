/*
 * virtio-net (device id 1) with an lwIP netif on top. Queue 0 receives,
 * queue 1 transmits; no control queue, no offloads, no merged buffers: every
 * frame is one descriptor holding the 12-byte virtio_net_hdr_v1 and the
 * Ethernet frame. Received frames are copied into pool pbufs and the buffer
 * is posted again at once; transmitted frames are copied into one of the TX
 * buffers. The device is notified once per main-loop pass (vnet_flush), and
 * only when it asked for it (VIRTIO_F_EVENT_IDX).
 */
#include "guest.h"
#include "vnet.h"
#include "lwip/etharp.h"
#include "lwip/pbuf.h"
#include "netif/ethernet.h"

#define VIRTIO_NET_F_MAC   5
#define NET_HDR            12
#define BUF                2048
#define RXN                256
#define TXN                256

struct netif vnet_netif;
struct vq vnet_rxq, vnet_txq;
static struct vdev *dev;
static uint8_t rxbuf[RXN][BUF] __attribute__((aligned(4096)));
static uint8_t txbuf[TXN][BUF] __attribute__((aligned(4096)));
static uint16_t txfree[TXN];
static int ntxfree;
uint64_t vnet_tx_full;                  /* frames dropped: no free TX buffer */

static void tx_reclaim(void)
{
	struct vq *q = &vnet_txq;
	while (vq_has_used(q)) {
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		uint32_t id = q->used->ring[q->last_used % q->num].id;
		q->last_used++;
		if (id < q->num)
			txfree[ntxfree++] = (uint16_t)id;
	}
	vq_want_irq(q, 0);
}

static err_t vnet_output(struct netif *nif, struct pbuf *p)
{
	(void)nif;
	struct vq *q = &vnet_txq;
	if (p->tot_len > BUF - NET_HDR)
		return ERR_BUF;
	if (!ntxfree) {
		tx_reclaim();
		if (!ntxfree) {
			/* the device has all buffers: push them out and wait a little */
			vq_kick(q);
			uint64_t t0 = clock_ns();
			while (!vq_has_used(q) && clock_ns() - t0 < 2000000)
				__builtin_ia32_pause();
			tx_reclaim();
			if (!ntxfree) {
				vnet_tx_full++;
				return ERR_MEM;
			}
		}
	}
	uint16_t id = txfree[--ntxfree];
	uint8_t *b = txbuf[id];
	memset(b, 0, NET_HDR);
	pbuf_copy_partial(p, b + NET_HDR, p->tot_len, 0);
	q->desc[id].addr = (uint64_t)b;
	q->desc[id].len = NET_HDR + p->tot_len;
	q->desc[id].flags = 0;
	q->avail->ring[q->avail_idx % q->num] = id;
	q->avail_idx++;
	vq_publish(q);
	return ERR_OK;
}

err_t vnet_netif_init(struct netif *nif)
{
	nif->name[0] = 'e';
	nif->name[1] = 'n';
	nif->output = etharp_output;
	nif->linkoutput = vnet_output;
	nif->mtu = 1500;
	nif->hwaddr_len = 6;
	for (int i = 0; i < 6; i++)
		nif->hwaddr[i] = mmio_r8(dev->base + VIRTIO_MMIO_CONFIG + (uint64_t)i);
	nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
	return ERR_OK;
}

int vnet_init(struct vdev *d)
{
	dev = d;
	if (virtio_begin(d, 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_F_EVENT_IDX))
		return -1;
	if (!(d->features >> VIRTIO_NET_F_MAC & 1)) {
		printf("vnet: device gives no MAC address\n");
		return -1;
	}
	if (virtio_queue(d, &vnet_rxq, 0, RXN) || virtio_queue(d, &vnet_txq, 1, TXN))
		return -1;
	struct vq *q = &vnet_rxq;
	for (uint16_t i = 0; i < q->num; i++) {
		q->desc[i].addr = (uint64_t)rxbuf[i];
		q->desc[i].len = BUF;
		q->desc[i].flags = VRING_DESC_F_WRITE;
		q->avail->ring[i] = i;
	}
	q->avail_idx = q->num;
	vq_publish(q);
	vq_want_irq(q, 0);
	for (uint16_t i = 0; i < vnet_txq.num; i++)
		txfree[ntxfree++] = i;
	vq_want_irq(&vnet_txq, 0);
	virtio_driver_ok(d);
	vq_kick(q);
	return 0;
}

int vnet_poll(void)
{
	struct vq *q = &vnet_rxq;
	int n = 0;
	while (vq_has_used(q)) {
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		struct vring_used_elem e = q->used->ring[q->last_used % q->num];
		q->last_used++;
		if (e.id < q->num && e.len > NET_HDR && e.len <= BUF) {
			uint16_t len = (uint16_t)(e.len - NET_HDR);
			struct pbuf *p = pbuf_alloc(PBUF_RAW, len, PBUF_POOL);
			if (p) {
				pbuf_take(p, rxbuf[e.id] + NET_HDR, len);
				if (vnet_netif.input(p, &vnet_netif) != ERR_OK)
					pbuf_free(p);
			}
		}
		if (e.id < q->num) {
			q->avail->ring[q->avail_idx % q->num] = (uint16_t)e.id;
			q->avail_idx++;
		}
		n++;
	}
	if (n) {
		vq_publish(q);
		vq_want_irq(q, 0);
	}
	return n;
}

void vnet_flush(void)
{
	vq_kick(&vnet_rxq);
	vq_kick(&vnet_txq);
	if (ntxfree < TXN)
		tx_reclaim();
}

void vnet_irq(int on)
{
	vq_want_irq(&vnet_rxq, on);
}

int vnet_bad(const char *mode)
{
	tx_reclaim();
	if (!ntxfree)
		return -1;
	uint16_t id = txfree[--ntxfree];
	return virtio_bad_chain(&vnet_txq, id, (uint64_t)txbuf[id], mode);
}

/* Hostile-guest test modes: the device must refuse these (and may mark
 * itself broken) without harming its VMM. */
int virtio_bad_chain(struct vq *q, uint16_t id, uint64_t buf, const char *mode)
{
	struct vring_desc *d = &q->desc[id];
	if (!strcmp(mode, "loop")) {            /* a descriptor chained to itself */
		*d = (struct vring_desc){ buf, 64, VRING_DESC_F_NEXT, id };
	} else if (!strcmp(mode, "oob")) {      /* a buffer far outside guest RAM */
		*d = (struct vring_desc){ 0xfff00000000ull, 64, 0, 0 };
	} else if (!strcmp(mode, "len")) {      /* a valid address with a length beyond RAM */
		*d = (struct vring_desc){ buf, 0xfffff000u, 0, 0 };
	} else if (!strcmp(mode, "next")) {     /* next index outside the table */
		*d = (struct vring_desc){ buf, 64, VRING_DESC_F_NEXT, (uint16_t)(q->num + 7) };
	} else if (!strcmp(mode, "idx")) {      /* avail idx moved by more than the queue size */
		*d = (struct vring_desc){ buf, 64, 0, 0 };
		q->avail->ring[q->avail_idx % q->num] = id;
		q->avail_idx = (uint16_t)(q->avail_idx + q->num + 3);
		vq_publish(q);
		mmio_w32(q->base + VIRTIO_MMIO_QUEUE_NOTIFY, q->index);
		return 0;
	} else {
		return -1;
	}
	q->avail->ring[q->avail_idx % q->num] = id;
	q->avail_idx++;
	vq_publish(q);
	mmio_w32(q->base + VIRTIO_MMIO_QUEUE_NOTIFY, q->index);  /* always, whatever avail_event says */
	q->kicked = q->avail_idx;
	return 0;
}
