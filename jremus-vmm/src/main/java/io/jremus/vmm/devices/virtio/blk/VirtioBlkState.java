package io.jremus.vmm.devices.virtio.blk;

/**
 * A virtio-blk device's saved state, apart from its behaviour (queues and negotiated features
 * live in the transport's state). Plain untrusted data: it becomes a device only through
 * {@link VirtioBlkDevice#restore}, which checks it against the image actually opened, so a
 * checkpoint cannot attach a guest to a disk of another size or writability.
 *
 * @param imageId         the backend's id (image file name), for messages and sanity checks
 * @param capacitySectors disk size in 512-byte sectors
 * @param readOnly        whether VIRTIO_BLK_F_RO was offered
 * @param serial          the GET_ID string (at most 20 ASCII bytes)
 * @param ackedFeatures   device feature bits the driver accepted (0 before activation)
 */
public record VirtioBlkState(String imageId, long capacitySectors, boolean readOnly, String serial,
                             long ackedFeatures) {
}
