package io.jremus.cli.image;

import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.X86Options;
import org.tukaani.xz.FilterOptions;
import org.tukaani.xz.XZ;
import org.tukaani.xz.XZOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.GZIPOutputStream;

/**
 * bzImage-shaped blobs for tests: a setup area with a boot-protocol header, some filler where
 * the decompressor code would be, the compressed kernel, and the 4-byte size the kernel build
 * appends after it (so the decoders must stop at the end of their stream).
 */
final class FakeBzImage {
    static final int SETUP_SECTS = 4;
    static final int PM_START = (SETUP_SECTS + 1) * 512;
    static final int DECOMPRESSOR_BYTES = 300;

    private FakeBzImage() {
    }

    static byte[] xz(byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        // The kernel's own choice: x86 BCJ filter + LZMA2, CRC32 check.
        try (XZOutputStream xz = new XZOutputStream(out, new FilterOptions[] {new X86Options(), new LZMA2Options()}, XZ.CHECK_CRC32)) {
            xz.write(data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    static byte[] gzip(byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** A bzImage with boot protocol {@code version} whose payload fields point at {@code compressed}. */
    static byte[] build(byte[] compressed, int uncompressedSize, int version) {
        int payloadOffset = DECOMPRESSOR_BYTES;
        int payloadLength = compressed.length + 4;
        ByteBuffer b = ByteBuffer.allocate(PM_START + payloadOffset + payloadLength + 200).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0x1F1, (byte) SETUP_SECTS);
        b.putInt(0x202, 0x5372_6448);
        b.putShort(0x206, (short) version);
        b.putInt(0x248, payloadOffset);
        b.putInt(0x24C, payloadLength);
        for (int i = PM_START; i < PM_START + payloadOffset; i++) {
            b.put(i, (byte) 0x90); // filler standing in for the decompressor stub
        }
        b.put(PM_START + payloadOffset, compressed);
        b.putInt(PM_START + payloadOffset + compressed.length, uncompressedSize);
        return b.array();
    }
}
