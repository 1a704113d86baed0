/**
 * The virtio block device: {@link io.jremus.vmm.devices.virtio.blk.VirtioBlkDevice} (the device
 * model), {@link io.jremus.vmm.devices.virtio.blk.RawImageFile} (its storage),
 * {@link io.jremus.vmm.devices.virtio.blk.VirtioBlkState} (saved state, apart from behaviour) and
 * {@link io.jremus.vmm.devices.virtio.blk.BlockWriteListener} (the hook disk replication uses).
 */
package io.jremus.vmm.devices.virtio.blk;
