package io.jremus.vmm.devices.virtio.net;

/**
 * A snapshot of a virtio-net device's counters. Bytes count Ethernet frames without the virtio
 * header. RX drops: frames the guest had no fitting buffer for, or that were malformed; TX
 * drops: runt frames and frames the output gate refused.
 */
public record VirtioNetMetrics(long rxFrames, long rxBytes, long rxDropped,
                               long txFrames, long txBytes, long txDropped) {
}
