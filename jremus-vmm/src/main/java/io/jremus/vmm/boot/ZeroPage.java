package io.jremus.vmm.boot;

import io.jremus.vmm.MachineLayout;
import io.jremus.vmm.memory.GuestMemory;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Fills Linux's {@code struct boot_params} (the "zero page") at {@link MachineLayout#ZERO_PAGE}
 * for the 64-bit entry, where the loader plays the part of the real-mode setup code: it starts
 * from zeros, copies the kernel's own setup header in, and sets the loader-owned fields.
 * Offsets (arch/x86/include/uapi/asm/bootparam.h): 0x070 acpi_rsdp_addr, 0x1e8 e820_entries,
 * 0x1f1 setup header, 0x2d0 e820_table (20-byte entries: u64 addr, u64 size, u32 type).
 */
final class ZeroPage {
    static final int OFF_ACPI_RSDP_ADDR = 0x070;
    static final int OFF_E820_ENTRIES = 0x1E8;
    static final int OFF_E820_TABLE = 0x2D0;
    static final int E820_ENTRY_SIZE = 20;
    static final int E820_MAX_ENTRIES = 128;
    /** "Undefined" boot loader ID: jremus has no ID assigned. */
    static final int LOADER_TYPE_UNDEFINED = 0xFF;

    private ZeroPage() {
    }

    static long write(GuestMemory memory, BzImage kernel, long cmdline, long initrdStart, long initrdSize,
                      List<E820Entry> e820, long rsdp) {
        if (e820.size() > E820_MAX_ENTRIES) {
            throw new BootException("memory map has " + e820.size() + " entries; the zero page holds " + E820_MAX_ENTRIES);
        }
        long zp = MachineLayout.ZERO_PAGE;
        memory.sliceForWrite(zp, GuestMemory.PAGE_SIZE).fill((byte) 0);
        MemorySegment hdr = kernel.headerBytes();
        MemorySegment.copy(hdr, 0, memory.sliceForWrite(zp + SetupHeader.OFF_SETUP_SECTS, hdr.byteSize()), 0, hdr.byteSize());

        memory.putByte(zp + SetupHeader.OFF_TYPE_OF_LOADER, (byte) LOADER_TYPE_UNDEFINED);
        memory.putInt(zp + SetupHeader.OFF_CODE32_START, (int) kernel.loadAddress());
        memory.putInt(zp + SetupHeader.OFF_CMD_LINE_PTR, (int) cmdline);
        memory.putInt(zp + SetupHeader.OFF_RAMDISK_IMAGE, (int) initrdStart);
        memory.putInt(zp + SetupHeader.OFF_RAMDISK_SIZE, (int) initrdSize);
        // Older kernels treat 0x070 as padding and find the RSDP by scanning 0xE0000 instead.
        if (kernel.header().version() >= SetupHeader.VERSION_ACPI_RSDP) {
            memory.putLong(zp + OFF_ACPI_RSDP_ADDR, rsdp);
        }
        memory.putByte(zp + OFF_E820_ENTRIES, (byte) e820.size());
        for (int i = 0; i < e820.size(); i++) {
            E820Entry e = e820.get(i);
            long at = zp + OFF_E820_TABLE + (long) i * E820_ENTRY_SIZE;
            memory.putLong(at, e.address());
            memory.putLong(at + 8, e.size());
            memory.putInt(at + 16, e.type());
        }
        return zp;
    }
}
