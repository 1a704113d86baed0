/* virtio-net driver and its lwIP netif; virtio-blk driver. */
#ifndef JG_VNET_H
#define JG_VNET_H
#include "virtio.h"
#include "lwip/netif.h"

extern struct netif vnet_netif;
extern struct vq vnet_rxq, vnet_txq;
int vnet_init(struct vdev *d);           /* 0 or -1 */
err_t vnet_netif_init(struct netif *nif); /* for netif_add */
int vnet_poll(void);                     /* frames received and handed to lwIP */
void vnet_flush(void);                   /* notify the device of queued frames, reclaim sent ones */
void vnet_irq(int on);                   /* want an interrupt for the next received frame */
int vnet_bad(const char *mode);          /* hostile-guest test: hand the TX queue a bad chain */

extern struct vq vblk_q;
extern uint64_t vblk_sectors;            /* capacity in 512-byte sectors, 0 = no disk */
extern int vblk_can_flush, vblk_ro;
int vblk_init(struct vdev *d);
/* synchronous I/O; 0 = ok, else the virtio-blk status (or -1 when the device
 * did not answer / is broken) */
int vblk_rw(int write, uint64_t sector, void *buf, uint32_t len);
int vblk_flush(void);
int vblk_get_id(char id[21]);
int vblk_bad(const char *mode);

/* shared by both: build a bad chain on q using free descriptor `id` */
int virtio_bad_chain(struct vq *q, uint16_t id, uint64_t valid_buf, const char *mode);
#endif
