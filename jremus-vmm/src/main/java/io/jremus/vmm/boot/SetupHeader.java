package io.jremus.vmm.boot;

/**
 * The fields of a bzImage's setup header (Linux x86 boot protocol, Documentation/arch/x86/boot.rst)
 * that jremus reads, already decoded. Offsets are from the start of the file, which is also the
 * start of the zero page the header is copied into.
 *
 * @param setupSects      512-byte sectors of real-mode setup code after the boot sector (0 read as 4)
 * @param version         boot protocol version, e.g. 0x020F for 2.15
 * @param loadflags       bit 0 LOADED_HIGH: the protected-mode code goes at 1 MiB or above
 * @param code32Start     32-bit entry (unused by the 64-bit entry; rewritten to the load address)
 * @param initrdAddrMax   highest address the initrd's last byte may have
 * @param kernelAlignment required alignment of the load address if relocatable
 * @param relocatable     whether the protected-mode code may be loaded at another address
 * @param xloadflags      bit 0 XLF_KERNEL_64: a 64-bit entry exists at load address + 0x200
 * @param cmdlineSize     the longest command line the kernel takes, without its NUL
 * @param prefAddress     the preferred load address of a relocatable kernel
 * @param initSize        bytes the kernel needs from its load address until it has parsed the memory map
 * @param headerEnd       end of the header in the file (0x202 + the byte at 0x201), for copying
 */
public record SetupHeader(int setupSects, int version, int loadflags, long code32Start, long initrdAddrMax,
                          long kernelAlignment, boolean relocatable, int xloadflags, long cmdlineSize,
                          long prefAddress, long initSize, int headerEnd) {
    public static final int OFF_SETUP_SECTS = 0x1F1;
    public static final int OFF_BOOT_FLAG = 0x1FE;
    public static final int OFF_JUMP = 0x200;
    public static final int OFF_HEADER = 0x202;
    public static final int OFF_VERSION = 0x206;
    public static final int OFF_TYPE_OF_LOADER = 0x210;
    public static final int OFF_LOADFLAGS = 0x211;
    public static final int OFF_CODE32_START = 0x214;
    public static final int OFF_RAMDISK_IMAGE = 0x218;
    public static final int OFF_RAMDISK_SIZE = 0x21C;
    public static final int OFF_CMD_LINE_PTR = 0x228;
    public static final int OFF_INITRD_ADDR_MAX = 0x22C;
    public static final int OFF_KERNEL_ALIGNMENT = 0x230;
    public static final int OFF_RELOCATABLE = 0x234;
    public static final int OFF_XLOADFLAGS = 0x236;
    public static final int OFF_CMDLINE_SIZE = 0x238;
    public static final int OFF_PREF_ADDRESS = 0x258;
    public static final int OFF_INIT_SIZE = 0x260;
    /** boot_params.edd_mbr_sig_buffer follows the header area; a longer header is a lie. */
    public static final int MAX_HEADER_END = 0x290;

    public static final int BOOT_FLAG = 0xAA55;
    /** "HdrS" read as a little-endian u32. */
    public static final int HEADER_MAGIC = 0x53726448;
    public static final int LOADED_HIGH = 0x01;
    public static final int XLF_KERNEL_64 = 0x01;
    /** 2.12 introduced xloadflags, the only way a kernel declares its 64-bit entry. */
    public static final int MIN_VERSION = 0x020C;
    public static final int VERSION_ACPI_RSDP = 0x020E;

    static SetupHeader read(ImageReader r) {
        r.require(0, OFF_INIT_SIZE + 4, "setup header");
        int bootFlag = r.u16(OFF_BOOT_FLAG, "boot_flag");
        if (bootFlag != BOOT_FLAG) {
            throw r.fail(String.format("not a bzImage: boot_flag is 0x%04x, expected 0xaa55", bootFlag));
        }
        long magic = r.u32(OFF_HEADER, "header");
        if (magic != HEADER_MAGIC) {
            throw r.fail(String.format("not a Linux bzImage: header magic is 0x%08x, expected \"HdrS\"", magic));
        }
        int version = r.u16(OFF_VERSION, "version");
        if (version < MIN_VERSION) {
            throw r.fail(String.format("boot protocol %d.%02d is older than 2.12, the first that declares a 64-bit entry",
                    version >> 8, version & 0xFF));
        }
        int loadflags = r.u8(OFF_LOADFLAGS, "loadflags");
        if ((loadflags & LOADED_HIGH) == 0) {
            throw r.fail("kernel is not LOADED_HIGH (a zImage); only bzImages are supported");
        }
        int xloadflags = r.u16(OFF_XLOADFLAGS, "xloadflags");
        if ((xloadflags & XLF_KERNEL_64) == 0) {
            throw r.fail("kernel has no 64-bit entry point (XLF_KERNEL_64 clear in xloadflags)");
        }
        int sects = r.u8(OFF_SETUP_SECTS, "setup_sects");
        long alignment = r.u32(OFF_KERNEL_ALIGNMENT, "kernel_alignment");
        boolean relocatable = r.u8(OFF_RELOCATABLE, "relocatable_kernel") != 0;
        if (relocatable && (alignment == 0 || Long.bitCount(alignment) != 1)) {
            throw r.fail("kernel_alignment 0x" + Long.toHexString(alignment) + " is not a power of two");
        }
        int headerEnd = OFF_HEADER + r.u8(OFF_JUMP + 1, "jump");
        if (headerEnd > MAX_HEADER_END) {
            throw r.fail("setup header claims to end at 0x" + Integer.toHexString(headerEnd) + ", past 0x"
                    + Integer.toHexString(MAX_HEADER_END));
        }
        return new SetupHeader(sects == 0 ? 4 : sects, version, loadflags, r.u32(OFF_CODE32_START, "code32_start"),
                r.u32(OFF_INITRD_ADDR_MAX, "initrd_addr_max"), alignment, relocatable, xloadflags,
                r.u32(OFF_CMDLINE_SIZE, "cmdline_size"), r.u64(OFF_PREF_ADDRESS, "pref_address"),
                r.u32(OFF_INIT_SIZE, "init_size"), headerEnd);
    }

    /** File offset of the protected-mode kernel: after the boot sector and the setup sectors. */
    public long protectedModeOffset() {
        return (setupSects + 1L) * 512;
    }
}
