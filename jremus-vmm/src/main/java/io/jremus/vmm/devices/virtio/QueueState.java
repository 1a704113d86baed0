package io.jremus.vmm.devices.virtio;

/**
 * One virtqueue's saved state, apart from behaviour. Plain untrusted data (it may come from a
 * checkpoint stream): it becomes a live {@link Virtqueue} only through the same validation a
 * guest's register writes get.
 *
 * @param size       queue size (QueueNum) as written by the driver
 * @param ready      QueueReady
 * @param descAddr   guest-physical address of the descriptor table
 * @param driverAddr guest-physical address of the available ring
 * @param deviceAddr guest-physical address of the used ring
 * @param nextAvail  next available-ring index the device will read (0-65535)
 * @param nextUsed   next used-ring index the device will write (0-65535)
 * @param eventIdx   whether VIRTIO_F_EVENT_IDX is in force on this queue
 */
public record QueueState(int size, boolean ready, long descAddr, long driverAddr, long deviceAddr,
                         int nextAvail, int nextUsed, boolean eventIdx) {
}
