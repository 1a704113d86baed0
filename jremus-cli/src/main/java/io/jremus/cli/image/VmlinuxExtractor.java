package io.jremus.cli.image;

import org.tukaani.xz.SingleXZInputStream;
import org.tukaani.xz.XZIOException;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Recovers the uncompressed ELF kernel ({@code vmlinux}) from a bzImage, the way the kernel's
 * own decompressor finds it: the x86 boot protocol's setup header (2.08+) gives
 * {@code payload_offset} (0x248) and {@code payload_length} (0x24c), relative to the start of
 * the protected-mode code at {@code (setup_sects + 1) * 512}. If the header is older or its
 * numbers do not point at a known magic, the payload is found by scanning for the XZ, then the
 * gzip, magic. XZ (Debian's choice) and gzip payloads are supported; other compressors are
 * reported by name.
 *
 * <p>Why in Java: the PVH entry wants vmlinux, Debian ships only vmlinuz, and the kernel tree's
 * extract-vmlinux script needs the matching host decompressor; doing it here needs nothing.
 */
public final class VmlinuxExtractor {
    /** A sanity bound against a corrupt or hostile payload; Debian's vmlinux is about 66 MB. */
    static final long MAX_VMLINUX = 1L << 30;

    private static final int SETUP_SECTS = 0x1F1;
    private static final int HEADER_MAGIC_AT = 0x202;
    private static final int HEADER_MAGIC = 0x5372_6448; // "HdrS"
    private static final int VERSION_AT = 0x206;
    private static final int PAYLOAD_OFFSET_AT = 0x248;
    private static final int PAYLOAD_LENGTH_AT = 0x24C;

    private static final byte[] XZ_MAGIC = {(byte) 0xFD, '7', 'z', 'X', 'Z', 0};
    private static final byte[] GZIP_MAGIC = {0x1F, (byte) 0x8B, 8};

    public enum Compression {
        XZ("xz"), GZIP("gzip");

        private final String label;

        Compression(String label) {
            this.label = label;
        }

        @Override
        public String toString() {
            return label;
        }
    }

    /** Where the compressed kernel sits inside the bzImage. */
    public record Payload(Compression compression, int offset, int length) {
    }

    /** What {@link #extract} produced. */
    public record Result(Compression compression, long compressedBytes, long vmlinuxBytes, Optional<Long> pvhEntry) {
    }

    private VmlinuxExtractor() {
    }

    /** Finds the compressed payload in {@code bzImage} (the whole file). */
    public static Payload locate(byte[] bzImage) throws ImageBuildException {
        ByteBuffer b = ByteBuffer.wrap(bzImage).order(ByteOrder.LITTLE_ENDIAN);
        if (bzImage.length < 0x250 || b.getInt(HEADER_MAGIC_AT) != HEADER_MAGIC) {
            throw new ImageBuildException("not a bzImage: no \"HdrS\" setup header at 0x202");
        }
        int setupSects = Byte.toUnsignedInt(b.get(SETUP_SECTS));
        long pmStart = (long) (setupSects == 0 ? 4 : setupSects) * 512 + 512;
        int version = Short.toUnsignedInt(b.getShort(VERSION_AT));
        if (version >= 0x0208) {
            long offset = pmStart + Integer.toUnsignedLong(b.getInt(PAYLOAD_OFFSET_AT));
            long length = Integer.toUnsignedLong(b.getInt(PAYLOAD_LENGTH_AT));
            if (length > 0 && offset + length <= bzImage.length) {
                Optional<Compression> c = compressionAt(bzImage, (int) offset);
                if (c.isPresent()) {
                    return new Payload(c.get(), (int) offset, (int) length);
                }
                String other = otherCompressorAt(bzImage, (int) offset);
                if (other != null) {
                    throw new ImageBuildException("the kernel payload is " + other
                            + "-compressed; only xz and gzip kernels are supported");
                }
            }
        }
        // Fallback: an old header, or one whose numbers do not lead to a magic we know.
        int start = (int) Math.min(pmStart, bzImage.length);
        for (Compression c : Compression.values()) {
            int at = indexOf(bzImage, c == Compression.XZ ? XZ_MAGIC : GZIP_MAGIC, start);
            if (at >= 0) {
                return new Payload(c, at, bzImage.length - at);
            }
        }
        throw new ImageBuildException("no xz or gzip payload found in the bzImage (setup header version "
                + Integer.toHexString(version >> 8) + "." + String.format("%02x", version & 0xFF) + ")");
    }

    /**
     * Decompresses the payload of {@code bzImage} into {@code vmlinux} and checks that the result
     * is an ELF file. A PVH note, if present, is reported but not required.
     */
    public static Result extract(Path bzImage, Path vmlinux) throws ImageBuildException {
        byte[] image;
        try {
            image = Files.readAllBytes(bzImage);
        } catch (IOException e) {
            throw new ImageBuildException("cannot read " + bzImage + ": " + e.getMessage(), e);
        }
        return extract(image, locate(image), vmlinux);
    }

    /** As {@link #extract(Path, Path)}, for a bzImage already read and located. */
    public static Result extract(byte[] image, Payload payload, Path vmlinux) throws ImageBuildException {
        long written;
        try (InputStream in = decompressor(image, payload);
             OutputStream out = Files.newOutputStream(vmlinux)) {
            written = copyBounded(in, out);
        } catch (XZIOException | ZipException | EOFException e) {
            throw new ImageBuildException("the kernel's " + payload.compression() + " payload is corrupt: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new ImageBuildException("cannot write " + vmlinux + ": " + e.getMessage(), e);
        }
        try (FileChannel ch = FileChannel.open(vmlinux)) {
            ByteBuffer elf = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
            if (!Elf64.hasElfMagic(elf)) {
                throw new ImageBuildException("the decompressed kernel is not an ELF file (no \\x7fELF at its start)");
            }
            Optional<Long> pvh;
            try {
                pvh = Elf64.parse(elf).pvhEntry();
            } catch (IllegalArgumentException e) {
                throw new ImageBuildException("the decompressed kernel is a malformed ELF file: " + e.getMessage(), e);
            }
            return new Result(payload.compression(), payload.length(), written, pvh);
        } catch (IOException e) {
            throw new ImageBuildException("cannot read back " + vmlinux + ": " + e.getMessage(), e);
        }
    }

    private static InputStream decompressor(byte[] image, Payload p) throws IOException {
        // Bounded to the payload: the kernel appends the uncompressed size after the stream,
        // which both decoders must not take for the start of another stream.
        InputStream raw = new ByteArrayInputStream(image, p.offset(), p.length());
        return switch (p.compression()) {
            case XZ -> new SingleXZInputStream(raw);
            case GZIP -> new GZIPInputStream(raw, 1 << 16);
        };
    }

    private static long copyBounded(InputStream in, OutputStream out) throws IOException {
        byte[] buf = new byte[1 << 16];
        long total = 0;
        for (int n; (n = in.read(buf)) > 0; ) {
            total += n;
            if (total > MAX_VMLINUX) {
                throw new ZipException("decompresses to more than " + (MAX_VMLINUX >> 20) + " MiB");
            }
            out.write(buf, 0, n);
        }
        return total;
    }

    private static Optional<Compression> compressionAt(byte[] b, int at) {
        if (startsWith(b, at, XZ_MAGIC)) {
            return Optional.of(Compression.XZ);
        }
        if (startsWith(b, at, GZIP_MAGIC)) {
            return Optional.of(Compression.GZIP);
        }
        return Optional.empty();
    }

    private static String otherCompressorAt(byte[] b, int at) {
        if (startsWith(b, at, new byte[] {0x28, (byte) 0xB5, 0x2F, (byte) 0xFD})) {
            return "zstd";
        } else if (startsWith(b, at, new byte[] {0x02, 0x21, 0x4C, 0x18})) {
            return "lz4";
        } else if (startsWith(b, at, new byte[] {'B', 'Z', 'h'})) {
            return "bzip2";
        } else if (startsWith(b, at, new byte[] {(byte) 0x89, 'L', 'Z', 'O'})) {
            return "lzo";
        } else if (startsWith(b, at, new byte[] {0x5D, 0, 0})) {
            return "lzma";
        }
        return null;
    }

    private static boolean startsWith(byte[] b, int at, byte[] magic) {
        if (at < 0 || at + magic.length > b.length) {
            return false;
        }
        for (int i = 0; i < magic.length; i++) {
            if (b[at + i] != magic[i]) {
                return false;
            }
        }
        return true;
    }

    private static int indexOf(byte[] b, byte[] magic, int from) {
        for (int i = from; i + magic.length <= b.length; i++) {
            if (startsWith(b, i, magic)) {
                return i;
            }
        }
        return -1;
    }
}
