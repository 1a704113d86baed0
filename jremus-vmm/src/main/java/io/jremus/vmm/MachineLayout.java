package io.jremus.vmm;

/**
 * The guest-physical map of a jremus machine. One place for every fixed address so that the
 * boot code, the devices, the ACPI tables and the e820 map agree.
 *
 * <pre>
 *   0x0000_0000  RAM (low)      boot structures below 1 MiB, kernel at 1 MiB (ELF) or 16 MiB (vmlinux)
 *   0x000E_0000  ACPI tables    RSDP is found here by a legacy BIOS-area scan as well as via PVH
 *   0xC000_0000  end of low RAM (guests with more RAM continue at 4 GiB)
 *   0xD000_0000  virtio-mmio    device i at VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_STRIDE, GSI VIRTIO_FIRST_GSI + i
 *   0xFEC0_0000  IOAPIC (in-kernel)
 *   0xFEE0_0000  LAPIC (in-kernel)
 *   0xFFFB_C000  KVM identity-map page and TSS (KVM_SET_IDENTITY_MAP_ADDR / KVM_SET_TSS_ADDR)
 *   0x1_0000_0000 RAM (high), if any
 * </pre>
 */
public final class MachineLayout {
    private MachineLayout() {
    }

    public static final long LOW_RAM_END = 0xC000_0000L;
    public static final long HIGH_RAM_START = 0x1_0000_0000L;

    /** PVH {@code hvm_start_info} and its memory map. */
    public static final long PVH_START_INFO = 0x6000;
    public static final long PVH_MEMMAP = 0x6100;
    /** PVH module list (the initrd): one 32-byte hvm_modlist_entry between start_info and the memmap. */
    public static final long PVH_MODLIST = 0x6080;
    /** Linux zero page (boot_params) for the bzImage 64-bit entry. */
    public static final long ZERO_PAGE = 0x7000;
    /** Boot GDT and identity page tables set up by the VMM for 64-bit entries. */
    public static final long BOOT_GDT = 0x500;
    public static final long BOOT_PML4 = 0x9000;
    public static final long BOOT_PDPT = 0xA000;
    public static final long BOOT_PD = 0xB000;
    /** Page directories from BOOT_PD on (0xB000..0xEFFF): 4 x 1 GiB of 2 MiB pages = the first 4 GiB. */
    public static final int BOOT_PD_COUNT = 4;
    /** Boot stack top for entries that want one. */
    public static final long BOOT_STACK_TOP = 0x8FF0;
    public static final long CMDLINE = 0x20000;
    public static final int CMDLINE_MAX = 4096;
    /** Start of the EBDA-like hole below 1 MiB that the e820 map reports as reserved. */
    public static final long LOW_RESERVED_START = 0x9FC00;
    public static final long ACPI_TABLES = 0xE0000;
    public static final long ACPI_TABLES_END = 0x100000;
    /** Where kernels are loaded if they do not say otherwise. */
    public static final long HIMEM_START = 0x100000;

    public static final long VIRTIO_MMIO_BASE = 0xD000_0000L;
    public static final long VIRTIO_MMIO_STRIDE = 0x1000;
    public static final long VIRTIO_MMIO_SIZE = 0x200;
    public static final int VIRTIO_MMIO_MAX_DEVICES = 16;
    public static final int VIRTIO_FIRST_GSI = 5;

    public static final long IOAPIC_BASE = 0xFEC0_0000L;
    public static final long LAPIC_BASE = 0xFEE0_0000L;
    public static final long KVM_IDENTITY_MAP = 0xFFFB_C000L;
    public static final long KVM_TSS = 0xFFFB_D000L;

    public static final int SERIAL_COM1_PORT = 0x3F8;
    public static final int SERIAL_COM1_GSI = 4;
    /** i8042 command port: 0xFE written here pulses the CPU reset line. */
    public static final int I8042_COMMAND_PORT = 0x64;
    public static final int I8042_DATA_PORT = 0x60;
    /** QEMU-compatible isa-debug-exit: {@code out 0xf4, v} ends the VM with status v. */
    public static final int DEBUG_EXIT_PORT = 0xF4;

    /**
     * ACPI hardware-reduced sleep/reset registers (FADT SLEEP_CONTROL_REG, SLEEP_STATUS_REG,
     * RESET_REG), one byte each. 0x600 is free of every legacy PC device (PIT, PIC, i8042, RTC,
     * POST 0x80, COM ports, debug-exit, PCI 0xCF8) and is where PCs commonly put their ACPI PM block.
     */
    public static final int ACPI_SLEEP_CONTROL_PORT = 0x600;
    public static final int ACPI_SLEEP_STATUS_PORT = 0x601;
    public static final int ACPI_RESET_PORT = 0x602;
}
