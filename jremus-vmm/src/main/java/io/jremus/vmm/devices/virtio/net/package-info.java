/**
 * The virtio network device: {@link io.jremus.vmm.devices.virtio.net.VirtioNetDevice} (device
 * model over a TAP), {@link io.jremus.vmm.devices.virtio.net.OutputGate} (where transmitted
 * frames go: the hook for Remus output commit), {@link io.jremus.vmm.devices.virtio.net.VirtioNetState}
 * (saved state) and {@link io.jremus.vmm.devices.virtio.net.VirtioNetMetrics} (counters).
 */
package io.jremus.vmm.devices.virtio.net;
