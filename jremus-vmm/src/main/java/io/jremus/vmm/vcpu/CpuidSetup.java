package io.jremus.vmm.vcpu;

import io.jremus.vmm.kvm.Kvm;
import io.jremus.vmm.kvm.KvmVcpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.jremus.sys.kvm.KvmStructs.*;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Gives each vCPU the CPUID that KVM supports on this host, with the topology made true for
 * this VM: APIC ID in leaf 1 EBX[31:24] and in the x2APIC leaves 0xB/0x1F EDX, the logical
 * processor count in leaf 1 EBX[23:16], and the hypervisor bit set.
 *
 * <p>Deliberately passes the host's feature set through (like {@code -cpu host}): a checkpoint
 * only restores on a host with the same features, which the replication layer checks.
 */
public final class CpuidSetup {
    private CpuidSetup() {
    }

    public static void apply(Kvm kvm, KvmVcpu vcpu, int vcpuCount) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment cpuid = kvm.supportedCpuid(a);
            int n = cpuid.get(JAVA_INT, 0);
            for (int i = 0; i < n; i++) {
                long e = KVM_CPUID2_HEADER_SIZE + i * KVM_CPUID_ENTRY2_SIZE;
                int function = cpuid.get(JAVA_INT, e + CPUID_ENTRY_FUNCTION);
                switch (function) {
                    case 1 -> {
                        int ebx = cpuid.get(JAVA_INT, e + CPUID_ENTRY_EBX);
                        ebx = (ebx & 0x0000FFFF) | (vcpu.id() << 24) | ((Math.max(vcpuCount, 1) & 0xFF) << 16);
                        cpuid.set(JAVA_INT, e + CPUID_ENTRY_EBX, ebx);
                        int ecx = cpuid.get(JAVA_INT, e + CPUID_ENTRY_ECX) | (1 << 31); // hypervisor present
                        cpuid.set(JAVA_INT, e + CPUID_ENTRY_ECX, ecx);
                        int edx = cpuid.get(JAVA_INT, e + CPUID_ENTRY_EDX);
                        if (vcpuCount > 1) edx |= 1 << 28; // HTT: leaf 1 EBX[23:16] is valid
                        cpuid.set(JAVA_INT, e + CPUID_ENTRY_EDX, edx);
                    }
                    case 0xB, 0x1F -> cpuid.set(JAVA_INT, e + CPUID_ENTRY_EDX, vcpu.id());
                    default -> {
                    }
                }
            }
            vcpu.setCpuid2(cpuid);
        }
    }
}
