package io.jremus.vmm.vcpu;

import io.jremus.vmm.kvm.KvmVcpu;

/**
 * Boot-time MSR values: the SYSCALL/SYSENTER MSRs cleared, the TSC at 0, and
 * IA32_MISC_ENABLE with fast strings on (what firmware leaves for a kernel). KVM refuses MSRs
 * it does not emulate; we stop at the first refusal, as {@code KVM_SET_MSRS} does, and log.
 */
public final class MsrSetup {
    private MsrSetup() {
    }

    public static final int IA32_SYSENTER_CS = 0x174;
    public static final int IA32_SYSENTER_ESP = 0x175;
    public static final int IA32_SYSENTER_EIP = 0x176;
    public static final int IA32_TSC = 0x10;
    public static final int IA32_MISC_ENABLE = 0x1A0;
    public static final int MSR_STAR = 0xC0000081;
    public static final int MSR_LSTAR = 0xC0000082;
    public static final int MSR_CSTAR = 0xC0000083;
    public static final int MSR_SYSCALL_MASK = 0xC0000084;
    public static final int MSR_KERNEL_GS_BASE = 0xC0000102;

    private static final long MISC_ENABLE_FAST_STRING = 1;

    /** @return the number of MSRs KVM accepted */
    public static int apply(KvmVcpu vcpu) {
        int[] idx = {IA32_SYSENTER_CS, IA32_SYSENTER_ESP, IA32_SYSENTER_EIP, MSR_STAR, MSR_LSTAR, MSR_CSTAR,
                MSR_SYSCALL_MASK, MSR_KERNEL_GS_BASE, IA32_TSC, IA32_MISC_ENABLE};
        long[] val = new long[idx.length];
        val[idx.length - 1] = MISC_ENABLE_FAST_STRING;
        return vcpu.setMsrs(idx, val);
    }
}
