package io.jremus.vmm.snapshot;

import io.jremus.vmm.devices.serial.SerialState;
import io.jremus.vmm.devices.virtio.VirtioMmioState;
import io.jremus.vmm.devices.virtio.blk.VirtioBlkState;
import io.jremus.vmm.devices.virtio.net.VirtioNetState;

import java.util.List;
import java.util.Objects;

/**
 * The saved state of every device the VMM emulates, in the VM's slot order: COM1, then one
 * virtio-mmio transport per slot (disks first, then NICs, as {@code Vm} assigns them) and the
 * device-specific state of each disk and NIC. The i8042, debug-exit and ACPI sleep ports hold
 * no state. Untrusted: each device's own {@code restore} validates its part.
 */
public record DeviceStates(SerialState serial, List<VirtioMmioState> transports, List<VirtioBlkState> disks,
                           List<VirtioNetState> nets) {
    public DeviceStates {
        Objects.requireNonNull(serial, "serial");
        transports = List.copyOf(transports);
        disks = List.copyOf(disks);
        nets = List.copyOf(nets);
    }
}
