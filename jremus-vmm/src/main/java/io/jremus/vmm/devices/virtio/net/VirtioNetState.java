package io.jremus.vmm.devices.virtio.net;

/**
 * A virtio-net device's saved state, apart from its behaviour (queues and negotiated features
 * live in the transport's state; frames in flight are not state: a frame lost at failover is
 * a dropped packet, which the network tolerates). Plain untrusted data: it becomes a device
 * only through {@link VirtioNetDevice#restore}, which checks every field.
 *
 * @param mac           the guest's MAC, as text {@code aa:bb:cc:dd:ee:ff}
 * @param mtu           advertised MTU, 0 if none
 * @param ackedFeatures device feature bits the driver accepted (0 before activation)
 */
public record VirtioNetState(String mac, int mtu, long ackedFeatures) {
}
