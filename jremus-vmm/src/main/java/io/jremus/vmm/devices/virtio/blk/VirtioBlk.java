package io.jremus.vmm.devices.virtio.blk;

/**
 * Constants of the virtio block device (virtio 1.x §5.2): feature bits, request types, status
 * values and the layout of the request header and the config space.
 *
 * <pre>
 *   request:  type le32 | reserved le32 | sector le64 | data[] | status u8
 *             (the first 16 bytes are device-readable; status is the last device-writable byte)
 *   config:   0 capacity le64 (512-byte sectors) | 8 size_max le32 | 12 seg_max le32
 *             | 16 geometry (4 bytes) | 20 blk_size le32
 * </pre>
 */
public final class VirtioBlk {
    private VirtioBlk() {
    }

    public static final int DEVICE_TYPE = 2;
    public static final int SECTOR_SIZE = 512;
    public static final int SECTOR_SHIFT = 9;
    /** Length of the string a GET_ID request returns (not NUL-terminated when it fills all 20). */
    public static final int ID_BYTES = 20;
    /** Bytes of the request header (type, reserved, sector). */
    public static final int HEADER_BYTES = 16;

    public static final long F_SIZE_MAX = 1L << 1;
    public static final long F_SEG_MAX = 1L << 2;
    public static final long F_RO = 1L << 5;
    public static final long F_BLK_SIZE = 1L << 6;
    public static final long F_FLUSH = 1L << 9;

    public static final int T_IN = 0;
    public static final int T_OUT = 1;
    public static final int T_FLUSH = 4;
    public static final int T_GET_ID = 8;

    public static final int S_OK = 0;
    public static final int S_IOERR = 1;
    public static final int S_UNSUPP = 2;

    static final int CONFIG_CAPACITY = 0;
    static final int CONFIG_SIZE_MAX = 8;
    static final int CONFIG_SEG_MAX = 12;
    static final int CONFIG_BLK_SIZE = 20;
    static final int CONFIG_LENGTH = 24;
}
