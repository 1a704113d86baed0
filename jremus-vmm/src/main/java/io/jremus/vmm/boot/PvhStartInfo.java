package io.jremus.vmm.boot;

import io.jremus.vmm.MachineLayout;
import io.jremus.vmm.memory.GuestMemory;

import java.util.List;

/**
 * Writes Xen's {@code struct hvm_start_info} (version 1) with its memory map and module list,
 * the structure a PVH kernel finds through EBX. Layout per xen/include/public/arch-x86/hvm/start_info.h;
 * all fields little-endian, addresses physical:
 *
 * <pre>
 *  0 u32 magic (0x336ec578)     4 u32 version (1)        8 u32 flags          12 u32 nr_modules
 * 16 u64 modlist_paddr         24 u64 cmdline_paddr     32 u64 rsdp_paddr
 * 40 u64 memmap_paddr          48 u32 memmap_entries    52 u32 reserved      (56 bytes)
 * hvm_modlist_entry (32 bytes):      0 u64 paddr, 8 u64 size, 16 u64 cmdline_paddr, 24 u64 reserved
 * hvm_memmap_table_entry (24 bytes): 0 u64 addr,  8 u64 size, 16 u32 type, 20 u32 reserved
 * </pre>
 */
public final class PvhStartInfo {
    public static final int MAGIC = 0x336ec578;
    public static final int VERSION = 1;
    public static final int SIZE = 56;
    public static final int MODLIST_ENTRY_SIZE = 32;
    public static final int MEMMAP_ENTRY_SIZE = 24;

    static final int OFF_MAGIC = 0;
    static final int OFF_VERSION = 4;
    static final int OFF_FLAGS = 8;
    static final int OFF_NR_MODULES = 12;
    static final int OFF_MODLIST = 16;
    static final int OFF_CMDLINE = 24;
    static final int OFF_RSDP = 32;
    static final int OFF_MEMMAP = 40;
    static final int OFF_MEMMAP_ENTRIES = 48;

    /** Room between the memmap and the zero page that follows it. */
    static final int MAX_MEMMAP_ENTRIES = (int) ((MachineLayout.ZERO_PAGE - MachineLayout.PVH_MEMMAP) / MEMMAP_ENTRY_SIZE);

    private PvhStartInfo() {
    }

    /**
     * Writes start_info at {@link MachineLayout#PVH_START_INFO}, the memmap at
     * {@link MachineLayout#PVH_MEMMAP} and, if {@code initrdSize > 0}, one module at
     * {@link MachineLayout#PVH_MODLIST}.
     *
     * @param rsdp 0 if there are no ACPI tables
     * @return the start_info address, for EBX
     */
    public static long write(GuestMemory memory, long cmdline, long rsdp, List<E820Entry> memmap,
                             long initrdStart, long initrdSize) {
        if (memmap.size() > MAX_MEMMAP_ENTRIES) {
            throw new BootException("memory map has " + memmap.size() + " entries; PVH room for " + MAX_MEMMAP_ENTRIES);
        }
        long si = MachineLayout.PVH_START_INFO;
        memory.sliceForWrite(si, MachineLayout.PVH_MEMMAP - si).fill((byte) 0);
        memory.putInt(si + OFF_MAGIC, MAGIC);
        memory.putInt(si + OFF_VERSION, VERSION);
        memory.putInt(si + OFF_FLAGS, 0);
        memory.putLong(si + OFF_CMDLINE, cmdline);
        memory.putLong(si + OFF_RSDP, rsdp);
        if (initrdSize > 0) {
            long mod = MachineLayout.PVH_MODLIST;
            memory.putInt(si + OFF_NR_MODULES, 1);
            memory.putLong(si + OFF_MODLIST, mod);
            memory.putLong(mod, initrdStart);
            memory.putLong(mod + 8, initrdSize);
        }
        long mm = MachineLayout.PVH_MEMMAP;
        for (int i = 0; i < memmap.size(); i++) {
            E820Entry e = memmap.get(i);
            long at = mm + (long) i * MEMMAP_ENTRY_SIZE;
            memory.putLong(at, e.address());
            memory.putLong(at + 8, e.size());
            memory.putInt(at + 16, e.type());
            memory.putInt(at + 20, 0);
        }
        memory.putLong(si + OFF_MEMMAP, mm);
        memory.putInt(si + OFF_MEMMAP_ENTRIES, memmap.size());
        return si;
    }
}
