package io.jremus.vmm.boot;

/** The processor mode a boot entry expects. */
public enum CpuMode {
    /** 32-bit flat protected mode, paging off (PVH entry). */
    PROTECTED_32,
    /** 64-bit long mode with identity-mapped paging (Linux 64-bit boot protocol). */
    LONG_64
}
