package io.jremus.replication.stream;

/**
 * The record types of docs/stream-format.md §4, with their wire codes and body length rules.
 * The codes never change; new types get new codes. Bit 31 of a code marks an optional record,
 * which a receiver that does not know it may skip.
 */
public enum RecordType {
    /** Opens an epoch: {@code u64 epoch}. */
    CHECKPOINT_BEGIN(0x01, Flow.FORWARD, 8, 8),
    /** Closes an epoch: {@code u64 epoch, u32 record_count, u32 page_count}. */
    CHECKPOINT_END(0x02, Flow.FORWARD, 16, 16),
    /** A batch of pages: {@code u32 count, u32 reserved}, then entries. */
    PAGE_DATA(0x03, Flow.FORWARD, 8 + 16, Integer.MAX_VALUE),
    /** One vCPU's state blob: {@code u32 vcpu, u32 reserved, blob}. */
    VCPU_STATE(0x04, Flow.FORWARD, 8, Integer.MAX_VALUE),
    /** VM-wide state blob (irqchip, PIT, clock): {@code u32 id (0), u32 reserved, blob}. */
    VM_STATE(0x05, Flow.FORWARD, 8, Integer.MAX_VALUE),
    /** One device's state blob: {@code u32 device, u32 reserved, blob}. */
    DEVICE_STATE(0x06, Flow.FORWARD, 8, Integer.MAX_VALUE),
    /** A guest disk write: {@code u32 disk, u32 length, u64 sector, data}. */
    DISK_WRITE(0x07, Flow.FORWARD, 16 + 512, Integer.MAX_VALUE),
    /** Starts a pre-copy round of the seed: {@code u32 round, u32 reserved, u64 pages_remaining}. */
    PRECOPY_ROUND(0x08, Flow.FORWARD, 16, 16),
    /** Orderly end of the session; empty. */
    STREAM_END(0x09, Flow.FORWARD, 0, 0),
    /** The backup applied an epoch: {@code u64 epoch}. */
    ACK(0x10, Flow.BACK, 8, 8),
    /** Liveness: {@code u64 seq, u64 time_ns}. */
    HEARTBEAT(0x11, Flow.BOTH, 16, 16),
    /** The sender gives up: {@code u32 code, u32 message_length, UTF-8 message}. */
    ERROR(0x12, Flow.BOTH, 8, 8 + RecordType.MAX_ERROR_MESSAGE),
    /**
     * Version 2, back, right after the back header, one per disk: what the backup's copy holds:
     * {@code u32 disk, u32 extent_count, i64 synced_epoch, lineage[16], u64 extent_bytes, u64 extent[]}.
     */
    DISK_STATE(0x13, Flow.BACK, 40, Integer.MAX_VALUE),
    /**
     * Version 2, forward, in the seed before a disk's DISK_WRITEs: how it is seeded:
     * {@code u32 disk, u32 mode (0 partial, 1 full), i64 since_epoch, lineage[16], u64 resync_bytes, u64 disk_bytes}.
     */
    DISK_RESYNC(0x14, Flow.FORWARD, 48, 48);

    /** Bit 31 of a type code: the record is optional. */
    public static final int OPTIONAL_BIT = 0x8000_0000;
    /** The longest ERROR message in octets. */
    public static final int MAX_ERROR_MESSAGE = 1024;

    enum Flow { FORWARD, BACK, BOTH }

    private final int code;
    private final Flow flow;
    private final int minBody;
    private final int maxBody;

    RecordType(int code, Flow flow, int minBody, int maxBody) {
        this.code = code;
        this.flow = flow;
        this.minBody = minBody;
        this.maxBody = maxBody;
    }

    /** The wire code. */
    public int code() {
        return code;
    }

    /** Whether this type may appear in a stream going {@code direction}. */
    public boolean allowedIn(StreamDirection direction) {
        return flow == Flow.BOTH || (flow == Flow.FORWARD) == (direction == StreamDirection.FORWARD);
    }

    /** The smallest legal body length. */
    public int minBody() {
        return minBody;
    }

    /** The largest legal body length by the format (a receiver's limit may be lower). */
    public int maxBody() {
        return maxBody;
    }

    /** Whether a type code has the optional bit. */
    public static boolean isOptional(int code) {
        return (code & OPTIONAL_BIT) != 0;
    }

    /** The known type with this code, or null. */
    public static RecordType fromCode(int code) {
        return switch (code) {
            case 0x01 -> CHECKPOINT_BEGIN;
            case 0x02 -> CHECKPOINT_END;
            case 0x03 -> PAGE_DATA;
            case 0x04 -> VCPU_STATE;
            case 0x05 -> VM_STATE;
            case 0x06 -> DEVICE_STATE;
            case 0x07 -> DISK_WRITE;
            case 0x08 -> PRECOPY_ROUND;
            case 0x09 -> STREAM_END;
            case 0x10 -> ACK;
            case 0x11 -> HEARTBEAT;
            case 0x12 -> ERROR;
            case 0x13 -> DISK_STATE;
            case 0x14 -> DISK_RESYNC;
            default -> null;
        };
    }

    /** A name for a type code, known or not, for messages. */
    public static String describe(int code) {
        RecordType t = fromCode(code);
        if (t != null) {
            return t.name();
        }
        return String.format("%s type 0x%08x", isOptional(code) ? "optional" : "unknown mandatory", code);
    }
}
