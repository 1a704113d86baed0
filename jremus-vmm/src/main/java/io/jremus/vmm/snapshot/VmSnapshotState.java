package io.jremus.vmm.snapshot;

import java.util.List;
import java.util.Objects;

/**
 * Everything of a paused VM except its memory: VM-wide KVM state, each vCPU, each device.
 * What {@code Vm.captureState()} returns and what a snapshot file's state records hold; the
 * replication layer sends one per epoch next to the dirty pages.
 */
public record VmSnapshotState(VmState vm, List<VcpuState> vcpus, DeviceStates devices) {
    public VmSnapshotState {
        Objects.requireNonNull(vm, "vm");
        Objects.requireNonNull(devices, "devices");
        vcpus = List.copyOf(vcpus);
    }

    /** Validates the KVM parts (devices validate their own on restore). */
    public void validate(int expectedVcpus) throws SnapshotException {
        vm.validate();
        if (vcpus.size() != expectedVcpus) {
            throw new SnapshotException(SnapshotException.Kind.MISMATCH, vcpus.size() + " vCPU states for a VM of " + expectedVcpus + " vCPUs");
        }
        for (int i = 0; i < vcpus.size(); i++) {
            VcpuState v = vcpus.get(i);
            v.validate();
            if (v.id() != i) throw new SnapshotException(SnapshotException.Kind.CORRUPT, "vCPU state #" + i + " has id " + v.id());
        }
    }
}
