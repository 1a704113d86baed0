package io.jremus.sys.kvm;

/**
 * Sizes and field offsets of the {@code linux/kvm.h} structs the VMM passes to ioctls (x86-64).
 * Written by hand and proved against the kernel headers by {@code KvmAbiTest}, which compiles a
 * C program printing {@code sizeof}/{@code offsetof} for every constant here.
 */
public final class KvmStructs {
    private KvmStructs() {
    }

    public static final long KVM_REGS_SIZE = 144;
    public static final long KVM_SREGS_SIZE = 312;
    public static final long KVM_SEGMENT_SIZE = 24;
    public static final long KVM_DTABLE_SIZE = 16;
    public static final long KVM_USERSPACE_MEMORY_REGION_SIZE = 32;
    public static final long KVM_DIRTY_LOG_SIZE = 16;
    public static final long KVM_CLEAR_DIRTY_LOG_SIZE = 24;
    public static final long KVM_PIT_CONFIG_SIZE = 64;
    public static final long KVM_IRQ_LEVEL_SIZE = 8;
    public static final long KVM_CPUID2_HEADER_SIZE = 8;
    public static final long KVM_CPUID_ENTRY2_SIZE = 40;
    public static final long KVM_MSRS_HEADER_SIZE = 8;
    public static final long KVM_MSR_ENTRY_SIZE = 16;
    public static final long KVM_MSR_LIST_HEADER_SIZE = 4;
    public static final long KVM_SIGNAL_MASK_HEADER_SIZE = 4;
    public static final long KVM_FPU_SIZE = 416;
    public static final long KVM_LAPIC_STATE_SIZE = 1024;
    public static final long KVM_XSAVE_SIZE = 4096;
    public static final long KVM_XCRS_SIZE = 392;
    public static final long KVM_MP_STATE_SIZE = 4;
    public static final long KVM_VCPU_EVENTS_SIZE = 64;
    public static final long KVM_DEBUGREGS_SIZE = 128;
    public static final long KVM_CLOCK_DATA_SIZE = 48;
    public static final long KVM_IRQCHIP_SIZE = 520;
    public static final long KVM_PIT_STATE2_SIZE = 112;
    public static final long KVM_IRQFD_SIZE = 32;
    public static final long KVM_IOEVENTFD_SIZE = 64;
    public static final long KVM_MSI_SIZE = 32;
    public static final long KVM_ENABLE_CAP_SIZE = 104;

    // struct kvm_userspace_memory_region
    public static final long MEMREGION_SLOT = 0;
    public static final long MEMREGION_FLAGS = 4;
    public static final long MEMREGION_GUEST_PHYS_ADDR = 8;
    public static final long MEMREGION_MEMORY_SIZE = 16;
    public static final long MEMREGION_USERSPACE_ADDR = 24;

    // struct kvm_dirty_log
    public static final long DIRTY_LOG_SLOT = 0;
    public static final long DIRTY_LOG_BITMAP = 8;

    // struct kvm_clear_dirty_log
    public static final long CLEAR_DIRTY_LOG_SLOT = 0;
    public static final long CLEAR_DIRTY_LOG_NUM_PAGES = 4;
    public static final long CLEAR_DIRTY_LOG_FIRST_PAGE = 8;
    public static final long CLEAR_DIRTY_LOG_BITMAP = 16;

    // struct kvm_irq_level
    public static final long IRQ_LEVEL_IRQ = 0;
    public static final long IRQ_LEVEL_LEVEL = 4;

    // struct kvm_pit_config
    public static final long PIT_CONFIG_FLAGS = 0;

    // struct kvm_cpuid_entry2
    public static final long CPUID_ENTRY_FUNCTION = 0;
    public static final long CPUID_ENTRY_INDEX = 4;
    public static final long CPUID_ENTRY_FLAGS = 8;
    public static final long CPUID_ENTRY_EAX = 12;
    public static final long CPUID_ENTRY_EBX = 16;
    public static final long CPUID_ENTRY_ECX = 20;
    public static final long CPUID_ENTRY_EDX = 24;

    // struct kvm_msr_entry
    public static final long MSR_ENTRY_INDEX = 0;
    public static final long MSR_ENTRY_DATA = 8;

    // struct kvm_sregs
    public static final long SREGS_CS = 0;
    public static final long SREGS_DS = 24;
    public static final long SREGS_ES = 48;
    public static final long SREGS_FS = 72;
    public static final long SREGS_GS = 96;
    public static final long SREGS_SS = 120;
    public static final long SREGS_TR = 144;
    public static final long SREGS_LDT = 168;
    public static final long SREGS_GDT = 192;
    public static final long SREGS_IDT = 208;
    public static final long SREGS_CR0 = 224;
    public static final long SREGS_CR2 = 232;
    public static final long SREGS_CR3 = 240;
    public static final long SREGS_CR4 = 248;
    public static final long SREGS_CR8 = 256;
    public static final long SREGS_EFER = 264;
    public static final long SREGS_APIC_BASE = 272;
    public static final long SREGS_INTERRUPT_BITMAP = 280;

    // struct kvm_segment
    public static final long SEGMENT_BASE = 0;
    public static final long SEGMENT_LIMIT = 8;
    public static final long SEGMENT_SELECTOR = 12;
    public static final long SEGMENT_TYPE = 14;
    public static final long SEGMENT_PRESENT = 15;
    public static final long SEGMENT_DPL = 16;
    public static final long SEGMENT_DB = 17;
    public static final long SEGMENT_S = 18;
    public static final long SEGMENT_L = 19;
    public static final long SEGMENT_G = 20;
    public static final long SEGMENT_AVL = 21;
    public static final long SEGMENT_UNUSABLE = 22;

    // struct kvm_dtable
    public static final long DTABLE_BASE = 0;
    public static final long DTABLE_LIMIT = 8;

    // struct kvm_regs: 18 u64 in this order
    public static final long REGS_RAX = 0;
    public static final long REGS_RBX = 8;
    public static final long REGS_RCX = 16;
    public static final long REGS_RDX = 24;
    public static final long REGS_RSI = 32;
    public static final long REGS_RDI = 40;
    public static final long REGS_RSP = 48;
    public static final long REGS_RBP = 56;
    public static final long REGS_R8 = 64;
    public static final long REGS_RIP = 128;
    public static final long REGS_RFLAGS = 136;

    // struct kvm_run
    public static final long RUN_REQUEST_INTERRUPT_WINDOW = 0;
    public static final long RUN_IMMEDIATE_EXIT = 1;
    public static final long RUN_EXIT_REASON = 8;
    public static final long RUN_READY_FOR_INTERRUPT_INJECTION = 12;
    public static final long RUN_IF_FLAG = 13;
    public static final long RUN_IO_DIRECTION = 32;
    public static final long RUN_IO_SIZE = 33;
    public static final long RUN_IO_PORT = 34;
    public static final long RUN_IO_COUNT = 36;
    public static final long RUN_IO_DATA_OFFSET = 40;
    public static final long RUN_MMIO_PHYS_ADDR = 32;
    public static final long RUN_MMIO_DATA = 40;
    public static final long RUN_MMIO_LEN = 48;
    public static final long RUN_MMIO_IS_WRITE = 52;
    public static final long RUN_SYSTEM_EVENT_TYPE = 32;
    public static final long RUN_INTERNAL_SUBERROR = 32;
    public static final long RUN_INTERNAL_NDATA = 36;
    public static final long RUN_INTERNAL_DATA = 40;
    public static final long RUN_FAIL_ENTRY_REASON = 32;
    public static final long RUN_EX_EXCEPTION = 32;
    public static final long RUN_EX_ERROR_CODE = 36;

    // struct kvm_irqfd
    public static final long IRQFD_FD = 0;
    public static final long IRQFD_GSI = 4;
    public static final long IRQFD_FLAGS = 8;
    public static final long IRQFD_RESAMPLEFD = 12;

    // struct kvm_ioeventfd
    public static final long IOEVENTFD_DATAMATCH = 0;
    public static final long IOEVENTFD_ADDR = 8;
    public static final long IOEVENTFD_LEN = 16;
    public static final long IOEVENTFD_FD = 20;
    public static final long IOEVENTFD_FLAGS = 24;

    // struct kvm_clock_data
    public static final long CLOCK_DATA_CLOCK = 0;
    public static final long CLOCK_DATA_FLAGS = 8;
    public static final long CLOCK_DATA_REALTIME = 16;
    public static final long CLOCK_DATA_HOST_TSC = 24;

    // struct kvm_enable_cap
    public static final long ENABLE_CAP_CAP = 0;
    public static final long ENABLE_CAP_FLAGS = 4;
    public static final long ENABLE_CAP_ARGS = 8;

    // struct kvm_irqchip
    public static final long IRQCHIP_CHIP_ID = 0;
    public static final long IRQCHIP_CHIP = 8;
}
