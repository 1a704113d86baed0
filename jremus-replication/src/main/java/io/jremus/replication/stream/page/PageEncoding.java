package io.jremus.replication.stream.page;

/**
 * How one page travels in a {@code PAGE_DATA} entry; mirrors the table in docs/stream-format.md §6.
 * The codes are on the wire and never change.
 */
public enum PageEncoding {
    /** The page is all zero; no payload. */
    ZERO(0),
    /** The page itself, 4096 octets. */
    RAW(1),
    /** Runs over (old XOR new): skips of unchanged octets and literal delta octets (§6.1). */
    XOR_RLE(2),
    /** One LZ4 block that decompresses to exactly the page. */
    LZ4(3),
    /** One LZ4 block that decompresses to exactly (old XOR new). */
    XOR_LZ4(4);

    private static final PageEncoding[] BY_CODE = values();

    private final int code;

    PageEncoding(int code) {
        this.code = code;
    }

    /** The wire code. */
    public int code() {
        return code;
    }

    /** The encoding with this wire code, or null for a reserved code. */
    public static PageEncoding fromCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }

    /** Whether the payload is applied on top of the receiver's old copy of the page. */
    public boolean isDelta() {
        return this == XOR_RLE || this == XOR_LZ4;
    }

    /** Whether {@code length} octets of payload are legal for this encoding (§6). */
    public boolean lengthAllowed(int length) {
        return switch (this) {
            case ZERO -> length == 0;
            case RAW -> length == PageCodec.PAGE_SIZE;
            case XOR_RLE -> length >= 0 && length <= PageCodec.PAGE_SIZE;
            case LZ4, XOR_LZ4 -> length >= 1 && length <= PageCodec.PAGE_SIZE;
        };
    }
}
