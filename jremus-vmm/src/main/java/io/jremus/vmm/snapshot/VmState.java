package io.jremus.vmm.snapshot;

import io.jremus.sys.kvm.KvmConstants;

import java.util.Arrays;
import java.util.Objects;

import static io.jremus.sys.kvm.KvmStructs.*;

/**
 * The VM-wide in-kernel state, apart from behaviour: the two 8259 PICs and the IOAPIC
 * ({@code struct kvm_irqchip} from {@code KVM_GET_IRQCHIP}, 520 bytes each), the i8254 PIT
 * ({@code struct kvm_pit_state2}, 112 bytes) and kvmclock ({@code struct kvm_clock_data},
 * 48 bytes). Raw struct bytes, untrusted until {@link #validate} passed; KVM checks the rest.
 */
public record VmState(byte[] picMaster, byte[] picSlave, byte[] ioapic, byte[] pit, byte[] clock) {
    public VmState {
        Objects.requireNonNull(picMaster, "picMaster");
        Objects.requireNonNull(picSlave, "picSlave");
        Objects.requireNonNull(ioapic, "ioapic");
        Objects.requireNonNull(pit, "pit");
        Objects.requireNonNull(clock, "clock");
    }

    public void validate() throws SnapshotException {
        chip("PIC master", picMaster, KvmConstants.KVM_IRQCHIP_PIC_MASTER);
        chip("PIC slave", picSlave, KvmConstants.KVM_IRQCHIP_PIC_SLAVE);
        chip("IOAPIC", ioapic, KvmConstants.KVM_IRQCHIP_IOAPIC);
        if (pit.length != KVM_PIT_STATE2_SIZE) throw corrupt("PIT state is " + pit.length + " bytes, want " + KVM_PIT_STATE2_SIZE);
        if (clock.length != KVM_CLOCK_DATA_SIZE) throw corrupt("clock is " + clock.length + " bytes, want " + KVM_CLOCK_DATA_SIZE);
    }

    /** kvmclock in ns at capture ({@code kvm_clock_data.clock}). */
    public long clockNanos() {
        return VcpuState.le64(clock, (int) CLOCK_DATA_CLOCK);
    }

    private static void chip(String what, byte[] b, int id) throws SnapshotException {
        if (b.length != KVM_IRQCHIP_SIZE) throw corrupt(what + " state is " + b.length + " bytes, want " + KVM_IRQCHIP_SIZE);
        int got = VcpuState.le32(b, (int) IRQCHIP_CHIP_ID);
        if (got != id) throw corrupt(what + " state has chip_id " + got + ", want " + id);
    }

    private static SnapshotException corrupt(String m) {
        return new SnapshotException(SnapshotException.Kind.CORRUPT, "VM state: " + m);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VmState s && Arrays.equals(picMaster, s.picMaster) && Arrays.equals(picSlave, s.picSlave)
                && Arrays.equals(ioapic, s.ioapic) && Arrays.equals(pit, s.pit) && Arrays.equals(clock, s.clock);
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(ioapic), Arrays.hashCode(pit), Arrays.hashCode(clock));
    }

    @Override
    public String toString() {
        return "VmState[clock=" + clockNanos() + "ns]";
    }
}
