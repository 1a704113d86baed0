package io.jremus.replication.stream;

/** The {@code code} values of an ERROR record (docs/stream-format.md §5.10). */
public final class ErrorCodes {
    /** The receiver refused something in the stream; the message says what. */
    public static final int STREAM_INVALID = 1;
    /** Configuration digest or memory layout differ. */
    public static final int CONFIG_MISMATCH = 2;
    /** Out of memory or disk. */
    public static final int RESOURCES = 3;
    /** The sender is shutting down. */
    public static final int SHUTTING_DOWN = 4;
    /** A bug; also what an unknown code means. */
    public static final int INTERNAL = 5;

    private ErrorCodes() {
    }

    /** A one-word name for logs; unknown codes read as internal (§5.10). */
    public static String name(int code) {
        return switch (code) {
            case STREAM_INVALID -> "stream-invalid";
            case CONFIG_MISMATCH -> "config-mismatch";
            case RESOURCES -> "resources";
            case SHUTTING_DOWN -> "shutting-down";
            default -> "internal";
        };
    }
}
