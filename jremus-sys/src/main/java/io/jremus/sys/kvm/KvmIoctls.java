package io.jremus.sys.kvm;

import static io.jremus.sys.Ioctl.io;
import static io.jremus.sys.Ioctl.ior;
import static io.jremus.sys.Ioctl.iow;
import static io.jremus.sys.Ioctl.iowr;
import static io.jremus.sys.kvm.KvmStructs.*;

/**
 * KVM ioctl request numbers, computed from {@code _IO*} the way {@code linux/kvm.h} defines
 * them (type {@code KVMIO = 0xAE}) and checked against the header in {@code KvmAbiTest}.
 * Grouped by the fd they apply to: system ({@code /dev/kvm}), VM, vCPU.
 */
public final class KvmIoctls {
    private KvmIoctls() {
    }

    public static final int KVMIO = 0xAE;

    // /dev/kvm
    public static final long KVM_GET_API_VERSION = io(KVMIO, 0x00);
    public static final long KVM_CREATE_VM = io(KVMIO, 0x01);
    public static final long KVM_GET_MSR_INDEX_LIST = iowr(KVMIO, 0x02, KVM_MSR_LIST_HEADER_SIZE);
    public static final long KVM_CHECK_EXTENSION = io(KVMIO, 0x03);
    public static final long KVM_GET_VCPU_MMAP_SIZE = io(KVMIO, 0x04);
    public static final long KVM_GET_SUPPORTED_CPUID = iowr(KVMIO, 0x05, KVM_CPUID2_HEADER_SIZE);

    // VM fd
    public static final long KVM_CREATE_VCPU = io(KVMIO, 0x41);
    public static final long KVM_GET_DIRTY_LOG = iow(KVMIO, 0x42, KVM_DIRTY_LOG_SIZE);
    public static final long KVM_SET_USER_MEMORY_REGION = iow(KVMIO, 0x46, KVM_USERSPACE_MEMORY_REGION_SIZE);
    public static final long KVM_SET_TSS_ADDR = io(KVMIO, 0x47);
    public static final long KVM_SET_IDENTITY_MAP_ADDR = iow(KVMIO, 0x48, 8);
    public static final long KVM_CREATE_IRQCHIP = io(KVMIO, 0x60);
    public static final long KVM_IRQ_LINE = iow(KVMIO, 0x61, KVM_IRQ_LEVEL_SIZE);
    public static final long KVM_GET_IRQCHIP = iowr(KVMIO, 0x62, KVM_IRQCHIP_SIZE);
    public static final long KVM_SET_IRQCHIP = ior(KVMIO, 0x63, KVM_IRQCHIP_SIZE);
    public static final long KVM_IRQFD = iow(KVMIO, 0x76, KVM_IRQFD_SIZE);
    public static final long KVM_CREATE_PIT2 = iow(KVMIO, 0x77, KVM_PIT_CONFIG_SIZE);
    public static final long KVM_SET_BOOT_CPU_ID = io(KVMIO, 0x78);
    public static final long KVM_IOEVENTFD = iow(KVMIO, 0x79, KVM_IOEVENTFD_SIZE);
    public static final long KVM_SET_CLOCK = iow(KVMIO, 0x7b, KVM_CLOCK_DATA_SIZE);
    public static final long KVM_GET_CLOCK = ior(KVMIO, 0x7c, KVM_CLOCK_DATA_SIZE);
    public static final long KVM_GET_PIT2 = ior(KVMIO, 0x9f, KVM_PIT_STATE2_SIZE);
    public static final long KVM_SET_PIT2 = iow(KVMIO, 0xa0, KVM_PIT_STATE2_SIZE);
    public static final long KVM_ENABLE_CAP = iow(KVMIO, 0xa3, KVM_ENABLE_CAP_SIZE);
    public static final long KVM_SIGNAL_MSI = iow(KVMIO, 0xa5, KVM_MSI_SIZE);
    public static final long KVM_CLEAR_DIRTY_LOG = iowr(KVMIO, 0xc0, KVM_CLEAR_DIRTY_LOG_SIZE);

    // vCPU fd
    public static final long KVM_RUN = io(KVMIO, 0x80);
    public static final long KVM_GET_REGS = ior(KVMIO, 0x81, KVM_REGS_SIZE);
    public static final long KVM_SET_REGS = iow(KVMIO, 0x82, KVM_REGS_SIZE);
    public static final long KVM_GET_SREGS = ior(KVMIO, 0x83, KVM_SREGS_SIZE);
    public static final long KVM_SET_SREGS = iow(KVMIO, 0x84, KVM_SREGS_SIZE);
    public static final long KVM_GET_MSRS = iowr(KVMIO, 0x88, KVM_MSRS_HEADER_SIZE);
    public static final long KVM_SET_MSRS = iow(KVMIO, 0x89, KVM_MSRS_HEADER_SIZE);
    public static final long KVM_SET_SIGNAL_MASK = iow(KVMIO, 0x8b, KVM_SIGNAL_MASK_HEADER_SIZE);
    public static final long KVM_GET_FPU = ior(KVMIO, 0x8c, KVM_FPU_SIZE);
    public static final long KVM_SET_FPU = iow(KVMIO, 0x8d, KVM_FPU_SIZE);
    public static final long KVM_GET_LAPIC = ior(KVMIO, 0x8e, KVM_LAPIC_STATE_SIZE);
    public static final long KVM_SET_LAPIC = iow(KVMIO, 0x8f, KVM_LAPIC_STATE_SIZE);
    public static final long KVM_SET_CPUID2 = iow(KVMIO, 0x90, KVM_CPUID2_HEADER_SIZE);
    public static final long KVM_GET_CPUID2 = iowr(KVMIO, 0x91, KVM_CPUID2_HEADER_SIZE);
    public static final long KVM_GET_MP_STATE = ior(KVMIO, 0x98, KVM_MP_STATE_SIZE);
    public static final long KVM_SET_MP_STATE = iow(KVMIO, 0x99, KVM_MP_STATE_SIZE);
    public static final long KVM_GET_VCPU_EVENTS = ior(KVMIO, 0x9f, KVM_VCPU_EVENTS_SIZE);
    public static final long KVM_SET_VCPU_EVENTS = iow(KVMIO, 0xa0, KVM_VCPU_EVENTS_SIZE);
    public static final long KVM_GET_DEBUGREGS = ior(KVMIO, 0xa1, KVM_DEBUGREGS_SIZE);
    public static final long KVM_SET_DEBUGREGS = iow(KVMIO, 0xa2, KVM_DEBUGREGS_SIZE);
    public static final long KVM_SET_TSC_KHZ = io(KVMIO, 0xa2);
    public static final long KVM_GET_TSC_KHZ = io(KVMIO, 0xa3);
    public static final long KVM_GET_XSAVE = ior(KVMIO, 0xa4, KVM_XSAVE_SIZE);
    public static final long KVM_SET_XSAVE = iow(KVMIO, 0xa5, KVM_XSAVE_SIZE);
    public static final long KVM_GET_XCRS = ior(KVMIO, 0xa6, KVM_XCRS_SIZE);
    public static final long KVM_SET_XCRS = iow(KVMIO, 0xa7, KVM_XCRS_SIZE);
    public static final long KVM_KVMCLOCK_CTRL = io(KVMIO, 0xad);
    public static final long KVM_GET_XSAVE2 = ior(KVMIO, 0xcf, KVM_XSAVE_SIZE);
}
