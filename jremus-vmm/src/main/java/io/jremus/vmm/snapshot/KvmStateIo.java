package io.jremus.vmm.snapshot;

import io.jremus.sys.Errno;
import io.jremus.sys.ErrnoException;
import io.jremus.sys.Libc;
import io.jremus.sys.kvm.KvmConstants;
import io.jremus.vmm.kvm.Kvm;
import io.jremus.vmm.kvm.KvmVcpu;
import io.jremus.vmm.kvm.KvmVm;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.jremus.sys.kvm.KvmIoctls.*;
import static io.jremus.sys.kvm.KvmStructs.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Reads and writes the KVM state of one VM and its vCPUs, in the order the kernel needs (see
 * {@code package-info}). Built once per VM: it probes which state ioctls this host offers
 * (XSAVE2 or XSAVE or only FPU, XCRS) and which MSRs of {@code KVM_GET_MSR_INDEX_LIST}
 * {@code KVM_GET_MSRS} really accepts, logging each refusal once, and keeps one scratch buffer
 * so a capture allocates only the byte arrays of the result.
 *
 * <p>Every method must be called with the vCPUs out of {@code KVM_RUN} (VM paused or not
 * started). Not thread-safe: one capture or apply at a time.
 */
public final class KvmStateIo implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(KvmStateIo.class);

    public static final int IA32_TSC = 0x10;
    public static final int IA32_TSC_DEADLINE = 0x6E0;
    private static final int SCRATCH = 64 * 1024;

    private final KvmVm vm;
    private final List<KvmVcpu> vcpus;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment scratch;
    private final long xsaveRequest;
    private final int xsaveSize;
    private final boolean xcrs;
    private final int[] msrs;
    private final Map<Integer, String> refusedMsrs = new LinkedHashMap<>();

    public KvmStateIo(Kvm kvm, KvmVm vm, List<KvmVcpu> vcpus) {
        this.vm = vm;
        this.vcpus = List.copyOf(vcpus);
        this.scratch = arena.allocate(SCRATCH, 64);
        int xsave2 = vm.checkExtension(KvmConstants.KVM_CAP_XSAVE2);
        if (xsave2 > 0) {
            xsaveRequest = KVM_GET_XSAVE2;
            xsaveSize = Math.max((int) KVM_XSAVE_SIZE, xsave2);
        } else if (vm.checkExtension(KvmConstants.KVM_CAP_XSAVE) > 0) {
            xsaveRequest = KVM_GET_XSAVE;
            xsaveSize = (int) KVM_XSAVE_SIZE;
        } else {
            xsaveRequest = 0;
            xsaveSize = 0;
            log.info("KVM has no XSAVE: saving the legacy FPU state (KVM_GET_FPU) only");
        }
        this.xcrs = vm.checkExtension(KvmConstants.KVM_CAP_XCRS) > 0;
        if (!xcrs) log.info("KVM has no KVM_CAP_XCRS: XCR0 is not saved (the guest cannot have changed it)");
        this.msrs = probeMsrs(kvm.msrIndexList(), this.vcpus.getFirst());
    }

    /** The MSRs saved per vCPU, TSC before TSC_DEADLINE. */
    public int[] savedMsrs() {
        return msrs.clone();
    }

    /** MSRs of KVM's index list that {@code KVM_GET_MSRS} refused on this host, with the reason. */
    public Map<Integer, String> refusedMsrs() {
        return Map.copyOf(refusedMsrs);
    }

    /** Bytes of XSAVE state per vCPU, 0 when only the legacy FPU state is available. */
    public int xsaveSize() {
        return xsaveSize;
    }

    /**
     * KVM's list may name MSRs that this vCPU model cannot read (features absent from its CPUID,
     * or emulation a nested host lacks). {@code KVM_GET_MSRS} stops at the first it refuses and
     * returns how many it read, so drop that one and ask again until all are read. Each refusal
     * is logged once: such an MSR does not exist for the guest, so it holds no state it can observe.
     */
    private int[] probeMsrs(int[] listed, KvmVcpu probe) {
        List<Integer> ok = new ArrayList<>();
        for (int m : listed) ok.add(m);
        while (!ok.isEmpty()) {
            int[] idx = ok.stream().mapToInt(Integer::intValue).toArray();
            long[] val = new long[idx.length];
            int n;
            try {
                n = probe.getMsrs(idx, val);
            } catch (ErrnoException e) {
                n = 0;
                if (idx.length == 1) {
                    refusedMsrs.put(idx[0], e.getMessage());
                    ok.clear();
                    break;
                }
            }
            if (n >= idx.length) break;
            refusedMsrs.put(idx[n], "KVM_GET_MSRS read " + n + " of " + idx.length + " and stopped here");
            ok.remove(n);
        }
        if (!refusedMsrs.isEmpty()) {
            StringBuilder sb = new StringBuilder();
            for (int m : refusedMsrs.keySet()) sb.append(sb.isEmpty() ? "" : ", ").append("0x").append(Integer.toHexString(m));
            log.info("KVM_GET_MSR_INDEX_LIST names {} MSRs; KVM_GET_MSRS refuses {} of them on this host ({}): not saved, the guest cannot read them either",
                    listed.length, refusedMsrs.size(), sb);
        }
        // TSC_DEADLINE is relative to the TSC: restore the TSC first.
        List<Integer> ordered = new ArrayList<>(ok);
        if (ordered.remove(Integer.valueOf(IA32_TSC))) ordered.addFirst(IA32_TSC);
        if (ordered.remove(Integer.valueOf(IA32_TSC_DEADLINE))) ordered.addLast(IA32_TSC_DEADLINE);
        return ordered.stream().mapToInt(Integer::intValue).toArray();
    }

    // ---------------------------------------------------------------- capture

    /** Captures vCPU {@code i}: MP state first (reading it may sync LAPIC state), vCPU events last. */
    public VcpuState captureVcpu(int i) {
        KvmVcpu v = vcpus.get(i);
        int fd = v.fd();
        int mp = get(fd, KVM_GET_MP_STATE, KVM_MP_STATE_SIZE, "KVM_GET_MP_STATE", i).get(JAVA_INT, 0);
        byte[] regs = bytes(get(fd, KVM_GET_REGS, KVM_REGS_SIZE, "KVM_GET_REGS", i), KVM_REGS_SIZE);
        byte[] sregs = bytes(get(fd, KVM_GET_SREGS, KVM_SREGS_SIZE, "KVM_GET_SREGS", i), KVM_SREGS_SIZE);
        byte[] fpu = new byte[0];
        byte[] xsave = new byte[0];
        if (xsaveSize > 0) {
            xsave = bytes(get(fd, xsaveRequest, xsaveSize, xsaveRequest == KVM_GET_XSAVE2 ? "KVM_GET_XSAVE2" : "KVM_GET_XSAVE", i), xsaveSize);
        } else {
            fpu = bytes(get(fd, KVM_GET_FPU, KVM_FPU_SIZE, "KVM_GET_FPU", i), KVM_FPU_SIZE);
        }
        byte[] xc = xcrs ? bytes(get(fd, KVM_GET_XCRS, KVM_XCRS_SIZE, "KVM_GET_XCRS", i), KVM_XCRS_SIZE) : new byte[0];
        byte[] dbg = bytes(get(fd, KVM_GET_DEBUGREGS, KVM_DEBUGREGS_SIZE, "KVM_GET_DEBUGREGS", i), KVM_DEBUGREGS_SIZE);
        byte[] lapic = bytes(get(fd, KVM_GET_LAPIC, KVM_LAPIC_STATE_SIZE, "KVM_GET_LAPIC", i), KVM_LAPIC_STATE_SIZE);
        byte[] cpuid = captureCpuid(fd, i);
        long[] values = captureMsrs(fd, i);
        byte[] events = bytes(get(fd, KVM_GET_VCPU_EVENTS, KVM_VCPU_EVENTS_SIZE, "KVM_GET_VCPU_EVENTS", i), KVM_VCPU_EVENTS_SIZE);
        return new VcpuState(i, mp, regs, sregs, fpu, xsave, xc, dbg, lapic, events, cpuid, msrs, values);
    }

    private byte[] captureCpuid(int fd, int i) {
        int cap = VcpuState.MAX_CPUID_ENTRIES;
        long size = KVM_CPUID2_HEADER_SIZE + cap * KVM_CPUID_ENTRY2_SIZE;
        MemorySegment s = scratch.asSlice(0, size);
        s.fill((byte) 0);
        s.set(JAVA_INT, 0, cap);
        Libc.ioctl(fd, KVM_GET_CPUID2, s, "KVM_GET_CPUID2(vCPU " + i + ")");
        int n = s.get(JAVA_INT, 0);
        return bytes(s, KVM_CPUID2_HEADER_SIZE + n * KVM_CPUID_ENTRY2_SIZE);
    }

    private long[] captureMsrs(int fd, int i) {
        MemorySegment m = scratch.asSlice(0, KVM_MSRS_HEADER_SIZE + KVM_MSR_ENTRY_SIZE * msrs.length);
        m.set(JAVA_INT, 0, msrs.length);
        m.set(JAVA_INT, 4, 0);
        for (int k = 0; k < msrs.length; k++) {
            long e = KVM_MSRS_HEADER_SIZE + KVM_MSR_ENTRY_SIZE * k;
            m.set(JAVA_INT, e + MSR_ENTRY_INDEX, msrs[k]);
            m.set(JAVA_INT, e + 4, 0);
            m.set(JAVA_LONG, e + MSR_ENTRY_DATA, 0);
        }
        int n = Libc.ioctl(fd, KVM_GET_MSRS, m, "KVM_GET_MSRS(vCPU " + i + ")");
        if (n != msrs.length) {
            // Probed at start: a refusal now means the vCPU changed under us; never drop state silently.
            throw new ErrnoException("KVM_GET_MSRS(vCPU " + i + ") read " + n + " of " + msrs.length
                    + " MSRs, stopping at 0x" + Integer.toHexString(msrs[n]), Errno.EINVAL);
        }
        long[] values = new long[msrs.length];
        for (int k = 0; k < msrs.length; k++) values[k] = m.get(JAVA_LONG, KVM_MSRS_HEADER_SIZE + KVM_MSR_ENTRY_SIZE * k + MSR_ENTRY_DATA);
        return values;
    }

    /** PIC master, PIC slave, IOAPIC, PIT and kvmclock. */
    public VmState captureVm() {
        byte[] master = chip(KvmConstants.KVM_IRQCHIP_PIC_MASTER);
        byte[] slave = chip(KvmConstants.KVM_IRQCHIP_PIC_SLAVE);
        byte[] ioapic = chip(KvmConstants.KVM_IRQCHIP_IOAPIC);
        MemorySegment p = scratch.asSlice(0, KVM_PIT_STATE2_SIZE);
        Libc.ioctl(vm.fd(), KVM_GET_PIT2, p, "KVM_GET_PIT2");
        byte[] pit = bytes(p, KVM_PIT_STATE2_SIZE);
        MemorySegment c = scratch.asSlice(0, KVM_CLOCK_DATA_SIZE);
        c.fill((byte) 0);
        Libc.ioctl(vm.fd(), KVM_GET_CLOCK, c, "KVM_GET_CLOCK");
        return new VmState(master, slave, ioapic, pit, bytes(c, KVM_CLOCK_DATA_SIZE));
    }

    private byte[] chip(int id) {
        MemorySegment s = scratch.asSlice(0, KVM_IRQCHIP_SIZE);
        s.fill((byte) 0);
        s.set(JAVA_INT, IRQCHIP_CHIP_ID, id);
        Libc.ioctl(vm.fd(), KVM_GET_IRQCHIP, s, "KVM_GET_IRQCHIP(" + id + ")");
        return bytes(s, KVM_IRQCHIP_SIZE);
    }

    // ---------------------------------------------------------------- apply

    /**
     * Loads a validated state into this (never-run) VM: irqchip and PIT, every vCPU, and
     * kvmclock last. On a KVM refusal the VM is left half-loaded: the caller discards it.
     */
    public void apply(VmSnapshotState s) throws SnapshotException {
        if (s.vcpus().size() != vcpus.size()) {
            throw new SnapshotException(SnapshotException.Kind.MISMATCH, s.vcpus().size() + " vCPU states for " + vcpus.size() + " vCPUs");
        }
        try {
            VmState v = s.vm();
            setBytes(vm.fd(), KVM_SET_PIT2, v.pit(), "KVM_SET_PIT2");
            setBytes(vm.fd(), KVM_SET_IRQCHIP, v.picMaster(), "KVM_SET_IRQCHIP(PIC master)");
            setBytes(vm.fd(), KVM_SET_IRQCHIP, v.picSlave(), "KVM_SET_IRQCHIP(PIC slave)");
            setBytes(vm.fd(), KVM_SET_IRQCHIP, v.ioapic(), "KVM_SET_IRQCHIP(IOAPIC)");
            for (VcpuState vs : s.vcpus()) applyVcpu(vs);
            applyClock(v);
        } catch (ErrnoException e) {
            throw new SnapshotException(SnapshotException.Kind.HOST, "KVM refused the saved state: " + e.getMessage(), e);
        }
    }

    /**
     * kvmclock: set to the saved value, so guest time resumes where it stopped (the time the VM
     * spent saved is invisible to it; a guest that wants wall-clock time fixes it as after a
     * suspend). {@code KVM_CLOCK_REALTIME} is cleared so KVM does not add the elapsed host time.
     */
    private void applyClock(VmState v) {
        MemorySegment c = scratch.asSlice(0, KVM_CLOCK_DATA_SIZE);
        MemorySegment.copy(MemorySegment.ofArray(v.clock()), 0, c, 0, KVM_CLOCK_DATA_SIZE);
        c.set(JAVA_INT, CLOCK_DATA_FLAGS, 0);
        Libc.ioctl(vm.fd(), KVM_SET_CLOCK, c, "KVM_SET_CLOCK");
    }

    private void applyVcpu(VcpuState s) throws SnapshotException {
        int i = s.id();
        int fd = vcpus.get(i).fd();
        if (s.xsave().length != 0 && s.xsave().length != xsaveSize) {
            throw new SnapshotException(SnapshotException.Kind.MISMATCH, "vCPU " + i + ": saved XSAVE area is " + s.xsave().length
                    + " bytes, this host's is " + xsaveSize + (xsaveSize == 0 ? " (no XSAVE)" : ""));
        }
        // CPUID first: KVM derives the vCPU model (XSAVE layout, MSRs it accepts) from it.
        setBytes(fd, KVM_SET_CPUID2, s.cpuid(), "KVM_SET_CPUID2(vCPU " + i + ")");
        MemorySegment mp = scratch.asSlice(0, KVM_MP_STATE_SIZE);
        mp.set(JAVA_INT, 0, s.mpState());
        Libc.ioctl(fd, KVM_SET_MP_STATE, mp, "KVM_SET_MP_STATE(vCPU " + i + ")");
        setBytes(fd, KVM_SET_REGS, s.regs(), "KVM_SET_REGS(vCPU " + i + ")");
        setBytes(fd, KVM_SET_SREGS, s.sregs(), "KVM_SET_SREGS(vCPU " + i + ")");
        if (s.xsave().length != 0) {
            setBytes(fd, KVM_SET_XSAVE, s.xsave(), "KVM_SET_XSAVE(vCPU " + i + ")");
        } else {
            setBytes(fd, KVM_SET_FPU, s.fpu(), "KVM_SET_FPU(vCPU " + i + ")");
        }
        if (s.xcrs().length != 0) setBytes(fd, KVM_SET_XCRS, s.xcrs(), "KVM_SET_XCRS(vCPU " + i + ")");
        setBytes(fd, KVM_SET_DEBUGREGS, s.debugRegs(), "KVM_SET_DEBUGREGS(vCPU " + i + ")");
        // LAPIC after SREGS: the APIC base MSR lives in sregs and decides the LAPIC's mode.
        setBytes(fd, KVM_SET_LAPIC, s.lapic(), "KVM_SET_LAPIC(vCPU " + i + ")");
        applyMsrs(fd, i, s.msrIndex(), s.msrValue());
        // Events last: setting regs/sregs clears pending exceptions that the events carry.
        setBytes(fd, KVM_SET_VCPU_EVENTS, s.events(), "KVM_SET_VCPU_EVENTS(vCPU " + i + ")");
    }

    private void applyMsrs(int fd, int i, int[] idx, long[] val) throws SnapshotException {
        // Saved order already has TSC first and TSC_DEADLINE last; enforce it for foreign files too.
        int[] order = new int[idx.length];
        int k = 0;
        for (int j = 0; j < idx.length; j++) if (idx[j] == IA32_TSC) order[k++] = j;
        for (int j = 0; j < idx.length; j++) if (idx[j] != IA32_TSC && idx[j] != IA32_TSC_DEADLINE) order[k++] = j;
        for (int j = 0; j < idx.length; j++) if (idx[j] == IA32_TSC_DEADLINE) order[k++] = j;
        MemorySegment m = scratch.asSlice(0, KVM_MSRS_HEADER_SIZE + KVM_MSR_ENTRY_SIZE * idx.length);
        m.set(JAVA_INT, 0, idx.length);
        m.set(JAVA_INT, 4, 0);
        for (int e = 0; e < idx.length; e++) {
            long off = KVM_MSRS_HEADER_SIZE + KVM_MSR_ENTRY_SIZE * e;
            m.set(JAVA_INT, off + MSR_ENTRY_INDEX, idx[order[e]]);
            m.set(JAVA_INT, off + 4, 0);
            m.set(JAVA_LONG, off + MSR_ENTRY_DATA, val[order[e]]);
        }
        int n = Libc.ioctl(fd, KVM_SET_MSRS, m, "KVM_SET_MSRS(vCPU " + i + ")");
        if (n != idx.length) {
            throw new SnapshotException(SnapshotException.Kind.HOST, "vCPU " + i + ": KVM_SET_MSRS accepted " + n + " of " + idx.length
                    + " MSRs and refused 0x" + Integer.toHexString(idx[order[n]]) + " = 0x" + Long.toHexString(val[order[n]]));
        }
    }

    /**
     * {@code KVM_KVMCLOCK_CTRL} on every vCPU: tells a guest using kvmclock that it was paused,
     * so its soft-lockup watchdog does not fire for the time it spent stopped. EINVAL means the
     * guest has not enabled kvmclock on that vCPU, which is fine.
     *
     * @return how many vCPUs accepted it
     */
    public int kvmclockCtrl() {
        int ok = 0;
        for (KvmVcpu v : vcpus) {
            int rc = Libc.ioctlRaw(Libc.captureSegment(), v.fd(), KVM_KVMCLOCK_CTRL, 0L);
            if (rc >= 0) ok++;
            else log.debug("KVM_KVMCLOCK_CTRL(vCPU {}): {}", v.id(), Errno.describe(Libc.errno()));
        }
        return ok;
    }

    private void setBytes(int fd, long request, byte[] b, String name) {
        MemorySegment s = scratch.asSlice(0, b.length);
        MemorySegment.copy(MemorySegment.ofArray(b), 0, s, 0, b.length);
        Libc.ioctl(fd, request, s, name);
    }

    private MemorySegment get(int fd, long request, long size, String name, int vcpu) {
        MemorySegment s = scratch.asSlice(0, size);
        Libc.ioctl(fd, request, s, name);
        return s;
    }

    private static byte[] bytes(MemorySegment s, long len) {
        byte[] b = new byte[(int) len];
        MemorySegment.copy(s, JAVA_BYTE, 0, b, 0, (int) len);
        return b;
    }

    @Override
    public void close() {
        arena.close();
    }

    @Override
    public String toString() {
        return "KvmStateIo[xsave=" + xsaveSize + "B via " + (xsaveRequest == KVM_GET_XSAVE2 ? "XSAVE2" : xsaveRequest == 0 ? "FPU" : "XSAVE")
                + ", xcrs=" + xcrs + ", msrs=" + msrs.length + ", refused=" + Arrays.toString(refusedMsrs.keySet().toArray()) + "]";
    }
}
