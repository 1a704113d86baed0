package io.jremus.vmm.kvm;

import io.jremus.sys.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.jremus.sys.kvm.KvmIoctls.*;
import static io.jremus.sys.kvm.KvmStructs.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A KVM vCPU fd and its shared {@code kvm_run} page.
 *
 * <p>Register and state accessors may be called from any thread only while the vCPU is not in
 * {@code KVM_RUN} (KVM serialises them on the vCPU mutex and would block). {@link #run} is for
 * the vCPU's own platform thread; {@link #requestImmediateExit} for whoever kicks it.
 */
public final class KvmVcpu implements AutoCloseable {
    private final int id;
    private final int fd;
    private final MemorySegment run;

    KvmVcpu(int id, int fd, int mmapSize, Arena arena) {
        this.id = id;
        this.fd = fd;
        this.run = Libc.mmap(mmapSize, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, fd, 0, arena, "kvm_run of vCPU " + id);
    }

    public int id() {
        return id;
    }

    public int fd() {
        return fd;
    }

    /** The {@code kvm_run} page; offsets in {@code KvmStructs.RUN_*}. */
    public MemorySegment runPage() {
        return run;
    }

    /** One {@code KVM_RUN}; returns the raw rc, errno in {@code capture}. Never throws on EINTR. */
    public int run(MemorySegment capture) {
        return Libc.ioctlRaw(capture, fd, KVM_RUN, 0L);
    }

    public int exitReason() {
        return run.get(JAVA_INT, RUN_EXIT_REASON);
    }

    public void requestImmediateExit(boolean on) {
        run.set(JAVA_BYTE, RUN_IMMEDIATE_EXIT, (byte) (on ? 1 : 0));
    }

    /** Reads a fixed-size state struct with a {@code KVM_GET_*} ioctl into a new segment. */
    public MemorySegment getState(long request, long size, String name, Arena arena) {
        MemorySegment s = arena.allocate(size, 8);
        Libc.ioctl(fd, request, s, name + "(vCPU " + id + ")");
        return s;
    }

    /** Writes a state struct with a {@code KVM_SET_*} ioctl. */
    public void setState(long request, MemorySegment state, String name) {
        Libc.ioctl(fd, request, state, name + "(vCPU " + id + ")");
    }

    public MemorySegment getRegs(Arena a) {
        return getState(KVM_GET_REGS, KVM_REGS_SIZE, "KVM_GET_REGS", a);
    }

    public void setRegs(MemorySegment regs) {
        setState(KVM_SET_REGS, regs, "KVM_SET_REGS");
    }

    public MemorySegment getSregs(Arena a) {
        return getState(KVM_GET_SREGS, KVM_SREGS_SIZE, "KVM_GET_SREGS", a);
    }

    public void setSregs(MemorySegment sregs) {
        setState(KVM_SET_SREGS, sregs, "KVM_SET_SREGS");
    }

    public MemorySegment getLapic(Arena a) {
        return getState(KVM_GET_LAPIC, KVM_LAPIC_STATE_SIZE, "KVM_GET_LAPIC", a);
    }

    public void setLapic(MemorySegment lapic) {
        setState(KVM_SET_LAPIC, lapic, "KVM_SET_LAPIC");
    }

    public int getMpState() {
        try (Arena a = Arena.ofConfined()) {
            return getState(KVM_GET_MP_STATE, KVM_MP_STATE_SIZE, "KVM_GET_MP_STATE", a).get(JAVA_INT, 0);
        }
    }

    public void setCpuid2(MemorySegment cpuid2) {
        setState(KVM_SET_CPUID2, cpuid2, "KVM_SET_CPUID2");
    }

    /** Sets MSRs; returns how many KVM accepted (it stops at the first it refuses). */
    public int setMsrs(int[] indices, long[] values) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(KVM_MSRS_HEADER_SIZE + KVM_MSR_ENTRY_SIZE * indices.length, 8);
            m.set(JAVA_INT, 0, indices.length);
            for (int i = 0; i < indices.length; i++) {
                long e = KVM_MSRS_HEADER_SIZE + KVM_MSR_ENTRY_SIZE * i;
                m.set(JAVA_INT, e + MSR_ENTRY_INDEX, indices[i]);
                m.set(JAVA_LONG, e + MSR_ENTRY_DATA, values[i]);
            }
            return Libc.ioctl(fd, KVM_SET_MSRS, m, "KVM_SET_MSRS(vCPU " + id + ")");
        }
    }

    /** Reads MSRs; entries KVM does not know are left 0. Returns how many were read. */
    public int getMsrs(int[] indices, long[] values) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(KVM_MSRS_HEADER_SIZE + KVM_MSR_ENTRY_SIZE * indices.length, 8);
            m.set(JAVA_INT, 0, indices.length);
            for (int i = 0; i < indices.length; i++) {
                m.set(JAVA_INT, KVM_MSRS_HEADER_SIZE + KVM_MSR_ENTRY_SIZE * i + MSR_ENTRY_INDEX, indices[i]);
            }
            int n = Libc.ioctl(fd, KVM_GET_MSRS, m, "KVM_GET_MSRS(vCPU " + id + ")");
            for (int i = 0; i < indices.length; i++) {
                values[i] = m.get(JAVA_LONG, KVM_MSRS_HEADER_SIZE + KVM_MSR_ENTRY_SIZE * i + MSR_ENTRY_DATA);
            }
            return n;
        }
    }

    /**
     * The signal mask in force while this vCPU is inside {@code KVM_RUN} ({@code len} must be
     * 8: the kernel's sigset size, not glibc's).
     */
    public void setSignalMask(long kernelSigset) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(KVM_SIGNAL_MASK_HEADER_SIZE + 8, 8);
            m.set(JAVA_INT, 0, 8);
            m.set(JAVA_LONG.withByteAlignment(4), 4, kernelSigset);
            Libc.ioctl(fd, KVM_SET_SIGNAL_MASK, m, "KVM_SET_SIGNAL_MASK(vCPU " + id + ")");
        }
    }

    @Override
    public void close() {
        Libc.close(fd);
    }
}
