package io.jremus.vmm.boot;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Bounds-checked little-endian reads from an untrusted image file. Every read names what it
 * reads, so a truncated or lying file produces a message like
 * "kernel: program header 3 [0x40, +0x38) lies outside the file (0x30 bytes)".
 */
final class ImageReader {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment image;
    private final String name;

    ImageReader(MemorySegment image, String name) {
        this.image = image;
        this.name = name;
    }

    MemorySegment image() {
        return image;
    }

    long size() {
        return image.byteSize();
    }

    /** Throws unless [offset, offset+length) lies inside the image; safe against overflow. */
    void require(long offset, long length, String what) {
        if (offset < 0 || length < 0 || offset > image.byteSize() || length > image.byteSize() - offset) {
            throw fail(what + " [0x" + Long.toHexString(offset) + ", +0x" + Long.toHexString(length)
                    + ") lies outside the file (0x" + Long.toHexString(image.byteSize()) + " bytes)");
        }
    }

    int u8(long offset, String what) {
        require(offset, 1, what);
        return Byte.toUnsignedInt(image.get(ValueLayout.JAVA_BYTE, offset));
    }

    int u16(long offset, String what) {
        require(offset, 2, what);
        return Short.toUnsignedInt(image.get(U16, offset));
    }

    /** An unsigned 32-bit field, widened so it never turns negative. */
    long u32(long offset, String what) {
        require(offset, 4, what);
        return Integer.toUnsignedLong(image.get(U32, offset));
    }

    /** A 64-bit field; values of 2^63 and more come back negative and callers reject them. */
    long u64(long offset, String what) {
        require(offset, 8, what);
        return image.get(U64, offset);
    }

    BootException fail(String problem) {
        return new BootException(name + ": " + problem);
    }
}
