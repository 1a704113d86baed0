package io.jremus.vmm.devices.virtio;

import java.util.List;

/**
 * The virtio-mmio transport's saved state, apart from behaviour: the register file and each
 * queue. Untrusted; {@link VirtioMmioTransport#restore} validates it. The device's own state
 * (a NIC's MAC, a disk's geometry) is saved by the device, not here.
 *
 * @param status             device status as the guest reads it (DEVICE_NEEDS_RESET included)
 * @param deviceFeaturesSel  DeviceFeaturesSel
 * @param driverFeaturesSel  DriverFeaturesSel
 * @param driverFeatures     features the driver has written (acked once FEATURES_OK is set)
 * @param queueSelect        QueueSel
 * @param interruptStatus    InterruptStatus (bit 0 used buffer, bit 1 config change)
 * @param configGeneration   ConfigGeneration
 * @param queues             one entry per queue the device has
 */
public record VirtioMmioState(int status, int deviceFeaturesSel, int driverFeaturesSel, long driverFeatures,
                              int queueSelect, int interruptStatus, int configGeneration, List<QueueState> queues) {
    public VirtioMmioState {
        queues = List.copyOf(queues);
    }
}
