package io.jremus.vmm.snapshot.format;

/**
 * The record types of a jremus snapshot file, mirroring {@code docs/snapshot-format.md} (one
 * constant per section there, same numbers). Bit 31 of a type marks a record a reader may skip
 * when it does not know it ({@link #OPTIONAL_BIT}); every type defined in version 1 is mandatory.
 */
public enum RecordType {
    /** Snapshot identity, chain link, memory layout, config digest. Always first. */
    HEADER(0x0001, 4096),
    /** The VM config as TOML, so a snapshot restores without its config file. */
    CONFIG(0x0002, 64 * 1024),
    /** PIC master, PIC slave, IOAPIC, PIT, kvmclock. */
    VM_STATE(0x0003, 4096),
    /** One vCPU; one record per vCPU, ids ascending from 0. */
    VCPU_STATE(0x0004, 128 * 1024),
    /** COM1. */
    SERIAL_STATE(0x0005, 4096),
    /** One virtio-mmio transport (register file, queues), by slot. */
    VIRTIO_MMIO_STATE(0x0006, 4096),
    /** A virtio-blk device's own state, by slot. */
    VIRTIO_BLK_STATE(0x0007, 4096),
    /** A virtio-net device's own state, by slot. */
    VIRTIO_NET_STATE(0x0008, 4096),
    /** A run of 1..256 contiguous guest pages with their contents. */
    PAGE_DATA(0x0010, 16 + 256 * 4096),
    /** Runs of guest pages that are all zero. */
    ZERO_PAGES(0x0011, 8 + 4096 * 16),
    /** Totals of the memory records; nothing may follow. */
    END(0x00FF, 16);

    /** A reader that does not know a type with this bit set skips the record. */
    public static final int OPTIONAL_BIT = 0x8000_0000;

    private final int code;
    private final int maxLength;

    RecordType(int code, int maxLength) {
        this.code = code;
        this.maxLength = maxLength;
    }

    public int code() {
        return code;
    }

    /** Largest body a valid record of this type can have; longer ones are refused unread. */
    public int maxLength() {
        return maxLength;
    }

    /** The type with {@code code}, or null if this version does not know it. */
    public static RecordType of(int code) {
        for (RecordType t : values()) if (t.code == code) return t;
        return null;
    }

    public static String describe(int code) {
        RecordType t = of(code);
        return t != null ? t.name() : "unknown type 0x" + Integer.toHexString(code);
    }
}
