package io.jremus.vmm.snapshot;

import io.jremus.sys.kvm.KvmConstants;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;

import static io.jremus.sys.kvm.KvmStructs.*;

/**
 * One vCPU's architectural state as KVM reports it, apart from behaviour: each field is the raw
 * bytes of the {@code linux/kvm.h} struct that {@code KVM_GET_*} filled in (x86-64, little
 * endian), so the record is exactly what the matching {@code KVM_SET_*} takes back.
 *
 * <p>Plain untrusted data. {@link #validate} checks every size and the few values the VMM
 * interprets itself (ids, MP state, counts); KVM checks the register contents when they are set.
 * Accessors hand out the arrays themselves (no copies: capture runs every epoch); callers must
 * not modify them.
 *
 * @param id        vCPU index (also its APIC ID)
 * @param mpState   {@code KVM_MP_STATE_*}
 * @param regs      {@code struct kvm_regs} (144 bytes)
 * @param sregs     {@code struct kvm_sregs} (312 bytes)
 * @param fpu       {@code struct kvm_fpu} (416 bytes) when the host has no XSAVE, else empty
 * @param xsave     {@code struct kvm_xsave} (4096 bytes, or {@code KVM_CAP_XSAVE2} bytes), or empty
 * @param xcrs      {@code struct kvm_xcrs} (392 bytes), or empty without {@code KVM_CAP_XCRS}
 * @param debugRegs {@code struct kvm_debugregs} (128 bytes)
 * @param lapic     {@code struct kvm_lapic_state} (1024 bytes)
 * @param events    {@code struct kvm_vcpu_events} (64 bytes)
 * @param cpuid     {@code struct kvm_cpuid2} with its entries (8 + 40·n bytes)
 * @param msrIndex  MSR numbers, in the order they are restored
 * @param msrValue  their values
 */
public record VcpuState(int id, int mpState, byte[] regs, byte[] sregs, byte[] fpu, byte[] xsave, byte[] xcrs,
                        byte[] debugRegs, byte[] lapic, byte[] events, byte[] cpuid, int[] msrIndex, long[] msrValue) {
    /** More MSRs than any KVM lists (about 100 on x86 today) means a corrupt record. */
    public static final int MAX_MSRS = 1024;
    /** KVM caps CPUID at 256 entries ({@code KVM_MAX_CPUID_ENTRIES}). */
    public static final int MAX_CPUID_ENTRIES = 256;
    /** Largest XSAVE area accepted (AMX state makes it about 11 KiB today). */
    public static final int MAX_XSAVE = 64 * 1024;
    public static final int MAX_VCPUS = 1024;

    public VcpuState {
        Objects.requireNonNull(regs, "regs");
        Objects.requireNonNull(sregs, "sregs");
        Objects.requireNonNull(fpu, "fpu");
        Objects.requireNonNull(xsave, "xsave");
        Objects.requireNonNull(xcrs, "xcrs");
        Objects.requireNonNull(debugRegs, "debugRegs");
        Objects.requireNonNull(lapic, "lapic");
        Objects.requireNonNull(events, "events");
        Objects.requireNonNull(cpuid, "cpuid");
        Objects.requireNonNull(msrIndex, "msrIndex");
        Objects.requireNonNull(msrValue, "msrValue");
    }

    /**
     * Checks sizes and values; the message names the vCPU, the field and the value.
     *
     * @throws SnapshotException (CORRUPT) at the first problem
     */
    public void validate() throws SnapshotException {
        String who = "vCPU " + id;
        if (id < 0 || id >= MAX_VCPUS) throw corrupt("vCPU id " + id + " is out of range 0.." + (MAX_VCPUS - 1));
        if (mpState < KvmConstants.KVM_MP_STATE_RUNNABLE || mpState > 8) throw corrupt(who + ": MP state " + mpState + " is not a KVM_MP_STATE_*");
        size(who, "regs", regs, KVM_REGS_SIZE);
        size(who, "sregs", sregs, KVM_SREGS_SIZE);
        size(who, "debugregs", debugRegs, KVM_DEBUGREGS_SIZE);
        size(who, "lapic", lapic, KVM_LAPIC_STATE_SIZE);
        size(who, "vcpu events", events, KVM_VCPU_EVENTS_SIZE);
        if (fpu.length != 0) size(who, "fpu", fpu, KVM_FPU_SIZE);
        if (xcrs.length != 0) size(who, "xcrs", xcrs, KVM_XCRS_SIZE);
        if (xsave.length != 0 && (xsave.length < KVM_XSAVE_SIZE || xsave.length > MAX_XSAVE || xsave.length % 64 != 0)) {
            throw corrupt(who + ": xsave is " + xsave.length + " bytes (want a multiple of 64 in " + KVM_XSAVE_SIZE + ".." + MAX_XSAVE + ")");
        }
        if (fpu.length == 0 && xsave.length == 0) throw corrupt(who + ": neither FPU nor XSAVE state");
        if (cpuid.length < KVM_CPUID2_HEADER_SIZE || (cpuid.length - KVM_CPUID2_HEADER_SIZE) % KVM_CPUID_ENTRY2_SIZE != 0) {
            throw corrupt(who + ": cpuid is " + cpuid.length + " bytes, not 8 + 40*n");
        }
        long entries = (cpuid.length - KVM_CPUID2_HEADER_SIZE) / KVM_CPUID_ENTRY2_SIZE;
        int nent = le32(cpuid, 0);
        if (nent != entries || entries > MAX_CPUID_ENTRIES) {
            throw corrupt(who + ": cpuid says " + Integer.toUnsignedString(nent) + " entries in " + entries + " (max " + MAX_CPUID_ENTRIES + ")");
        }
        if (msrIndex.length != msrValue.length || msrIndex.length > MAX_MSRS) {
            throw corrupt(who + ": " + msrIndex.length + " MSR numbers for " + msrValue.length + " values (max " + MAX_MSRS + ")");
        }
        Set<Integer> seen = new HashSet<>();
        for (int m : msrIndex) {
            if (!seen.add(m)) throw corrupt(who + ": MSR 0x" + Integer.toHexString(m) + " appears twice");
        }
        int apicIdInLapic = le32(lapic, 0x20) >>> 24;
        if (apicIdInLapic != id) throw corrupt(who + ": LAPIC ID register says " + apicIdInLapic);
    }

    /** {@code kvm_regs.rip}. */
    public long rip() {
        return le64(regs, (int) REGS_RIP);
    }

    private static void size(String who, String what, byte[] b, long want) throws SnapshotException {
        if (b.length != want) throw corrupt(who + ": " + what + " is " + b.length + " bytes, want " + want);
    }

    private static SnapshotException corrupt(String m) {
        return new SnapshotException(SnapshotException.Kind.CORRUPT, m);
    }

    static int le32(byte[] b, int off) {
        return (b[off] & 0xFF) | (b[off + 1] & 0xFF) << 8 | (b[off + 2] & 0xFF) << 16 | (b[off + 3] & 0xFF) << 24;
    }

    static long le64(byte[] b, int off) {
        return (le32(b, off) & 0xFFFFFFFFL) | ((long) le32(b, off + 4) << 32);
    }

    // Records compare arrays by identity; state equality must compare the bytes.
    @Override
    public boolean equals(Object o) {
        return o instanceof VcpuState s && id == s.id && mpState == s.mpState && Arrays.equals(regs, s.regs)
                && Arrays.equals(sregs, s.sregs) && Arrays.equals(fpu, s.fpu) && Arrays.equals(xsave, s.xsave)
                && Arrays.equals(xcrs, s.xcrs) && Arrays.equals(debugRegs, s.debugRegs) && Arrays.equals(lapic, s.lapic)
                && Arrays.equals(events, s.events) && Arrays.equals(cpuid, s.cpuid)
                && Arrays.equals(msrIndex, s.msrIndex) && Arrays.equals(msrValue, s.msrValue);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, mpState, Arrays.hashCode(regs), Arrays.hashCode(sregs), Arrays.hashCode(lapic));
    }

    @Override
    public String toString() {
        return "VcpuState[id=" + id + ", mpState=" + mpState + ", rip=0x" + Long.toHexString(rip()) + ", msrs=" + msrIndex.length
                + ", xsave=" + xsave.length + "B, fpu=" + fpu.length + "B]";
    }
}
