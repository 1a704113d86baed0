package io.jremus.vmm.kvm;

import io.jremus.sys.Libc;
import io.jremus.sys.kvm.KvmConstants;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.jremus.sys.kvm.KvmIoctls.*;
import static io.jremus.sys.kvm.KvmStructs.*;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A KVM VM fd: memory slots, the in-kernel irqchip and PIT, interrupt lines, dirty log, vCPUs.
 *
 * <p>{@link #irqLine} is called from device threads concurrently; it allocates nothing and
 * uses the caller's thread-local errno capture, so it is safe from any thread.
 */
public final class KvmVm implements AutoCloseable {
    private final Kvm kvm;
    private final int fd;
    private final ThreadLocal<MemorySegment> irqLevel =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(KVM_IRQ_LEVEL_SIZE, 8));

    KvmVm(Kvm kvm, int fd) {
        this.kvm = kvm;
        this.fd = fd;
    }

    public Kvm kvm() {
        return kvm;
    }

    public int fd() {
        return fd;
    }

    public int checkExtension(int cap) {
        return Libc.ioctl(fd, KVM_CHECK_EXTENSION, cap, "KVM_CHECK_EXTENSION(" + cap + ") on VM");
    }

    /** Registers (or, with size 0, deletes) a memory slot backed by {@code host}. */
    public void setUserMemoryRegion(int slot, int flags, long guestAddress, MemorySegment host) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment r = a.allocate(KVM_USERSPACE_MEMORY_REGION_SIZE, 8);
            r.set(JAVA_INT, MEMREGION_SLOT, slot);
            r.set(JAVA_INT, MEMREGION_FLAGS, flags);
            r.set(JAVA_LONG, MEMREGION_GUEST_PHYS_ADDR, guestAddress);
            r.set(JAVA_LONG, MEMREGION_MEMORY_SIZE, host.byteSize());
            r.set(JAVA_LONG, MEMREGION_USERSPACE_ADDR, host.address());
            Libc.ioctl(fd, KVM_SET_USER_MEMORY_REGION, r, "KVM_SET_USER_MEMORY_REGION(slot " + slot + ", 0x"
                    + Long.toHexString(guestAddress) + "+0x" + Long.toHexString(host.byteSize()) + ")");
        }
    }

    public void setTssAddr(long address) {
        Libc.ioctl(fd, KVM_SET_TSS_ADDR, address, "KVM_SET_TSS_ADDR");
    }

    public void setIdentityMapAddr(long address) {
        try (Arena a = Arena.ofConfined()) {
            Libc.ioctl(fd, KVM_SET_IDENTITY_MAP_ADDR, a.allocateFrom(JAVA_LONG, address), "KVM_SET_IDENTITY_MAP_ADDR");
        }
    }

    /** In-kernel PIC + IOAPIC + per-vCPU LAPIC. Must precede vCPU creation. */
    public void createIrqchip() {
        Libc.ioctl(fd, KVM_CREATE_IRQCHIP, 0L, "KVM_CREATE_IRQCHIP");
    }

    /** In-kernel i8254 PIT, with the speaker port stubbed. */
    public void createPit2() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment cfg = a.allocate(KVM_PIT_CONFIG_SIZE, 8);
            cfg.set(JAVA_INT, PIT_CONFIG_FLAGS, KvmConstants.KVM_PIT_SPEAKER_DUMMY);
            Libc.ioctl(fd, KVM_CREATE_PIT2, cfg, "KVM_CREATE_PIT2");
        }
    }

    /** Drives interrupt input {@code gsi} of the in-kernel PIC/IOAPIC to {@code level}. */
    public void irqLine(int gsi, boolean level) {
        MemorySegment s = irqLevel.get();
        s.set(JAVA_INT, IRQ_LEVEL_IRQ, gsi);
        s.set(JAVA_INT, IRQ_LEVEL_LEVEL, level ? 1 : 0);
        if (Libc.ioctlRaw(Libc.captureSegment(), fd, KVM_IRQ_LINE, s) < 0) {
            throw new io.jremus.sys.ErrnoException("KVM_IRQ_LINE(" + gsi + ")", Libc.errno());
        }
    }

    /**
     * {@code KVM_GET_DIRTY_LOG}: fills {@code bitmap} (one bit per page of the slot, 64-bit
     * words) and, without manual-protect, clears the log and write-protects those pages again.
     */
    public void getDirtyLog(int slot, MemorySegment bitmap, MemorySegment scratch) {
        scratch.set(JAVA_INT, DIRTY_LOG_SLOT, slot);
        scratch.set(ADDRESS, DIRTY_LOG_BITMAP, bitmap);
        Libc.ioctl(fd, KVM_GET_DIRTY_LOG, scratch, "KVM_GET_DIRTY_LOG(slot " + slot + ")");
    }

    public KvmVcpu createVcpu(int id, Arena arena) {
        int vcpuFd = Libc.ioctl(fd, KVM_CREATE_VCPU, id, "KVM_CREATE_VCPU(" + id + ")");
        return new KvmVcpu(id, vcpuFd, kvm.vcpuMmapSize(), arena);
    }

    @Override
    public void close() {
        Libc.close(fd);
    }
}
