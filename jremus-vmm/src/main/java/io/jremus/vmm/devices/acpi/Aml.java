package io.jremus.vmm.devices.acpi;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A small encoder for the ACPI Machine Language terms a static DSDT needs (ACPI 6.x, chapter 20):
 * Name, Scope, Device, Package, Buffer, String, integers and EisaId. Each method returns the
 * encoded bytes of one term, so terms nest by passing one method's result to another, e.g.
 * {@code scope("\\_SB", device("VR00", name("_UID", integer(0))))}.
 *
 * <p>No methods, operators or control flow: jremus describes fixed hardware, nothing the guest
 * must evaluate at run time.
 */
public final class Aml {
    static final int ZERO_OP = 0x00;
    static final int ONE_OP = 0x01;
    static final int NAME_OP = 0x08;
    static final int BYTE_PREFIX = 0x0A;
    static final int WORD_PREFIX = 0x0B;
    static final int DWORD_PREFIX = 0x0C;
    static final int STRING_PREFIX = 0x0D;
    static final int QWORD_PREFIX = 0x0E;
    static final int SCOPE_OP = 0x10;
    static final int BUFFER_OP = 0x11;
    static final int PACKAGE_OP = 0x12;
    static final int EXT_OP_PREFIX = 0x5B;
    static final int DEVICE_OP = 0x82;
    static final int DUAL_NAME_PREFIX = 0x2E;
    static final int MULTI_NAME_PREFIX = 0x2F;
    static final int ROOT_CHAR = '\\';
    static final int PARENT_PREFIX = '^';

    private Aml() {
    }

    /** {@code Name (name, value)}. */
    public static byte[] name(String name, byte[] value) {
        return concat(new byte[] {NAME_OP}, nameString(name), value);
    }

    /** {@code Scope (name) { terms }}. */
    public static byte[] scope(String name, byte[]... terms) {
        return concat(new byte[] {SCOPE_OP}, withPkgLength(concat(nameString(name), concat(terms))));
    }

    /** {@code Device (name) { terms }}. */
    public static byte[] device(String name, byte[]... terms) {
        return concat(new byte[] {EXT_OP_PREFIX, (byte) DEVICE_OP}, withPkgLength(concat(nameString(name), concat(terms))));
    }

    /** {@code Package (n) { elements }} with as many slots as elements. */
    public static byte[] packageOf(byte[]... elements) {
        if (elements.length > 255) throw new IllegalArgumentException("a Package holds at most 255 elements");
        return concat(new byte[] {PACKAGE_OP}, withPkgLength(concat(new byte[] {(byte) elements.length}, concat(elements))));
    }

    /** {@code Buffer (size) { bytes }}. */
    public static byte[] buffer(byte[] bytes) {
        return concat(new byte[] {BUFFER_OP}, withPkgLength(concat(integer(bytes.length), bytes)));
    }

    /** A string literal: printable ASCII only, as AML requires. */
    public static byte[] string(String s) {
        for (char c : s.toCharArray()) {
            if (c < 0x01 || c > 0x7F) throw new IllegalArgumentException("AML strings are ASCII without NUL: " + s);
        }
        return concat(new byte[] {STRING_PREFIX}, s.getBytes(StandardCharsets.US_ASCII), new byte[] {0});
    }

    /** An integer in the shortest encoding (Zero, One, Byte, Word, DWord or QWord constant). */
    public static byte[] integer(long v) {
        if (v == 0) return new byte[] {ZERO_OP};
        if (v == 1) return new byte[] {ONE_OP};
        if (v > 0 && v <= 0xFF) return new byte[] {BYTE_PREFIX, (byte) v};
        if (v > 0 && v <= 0xFFFF) return le(WORD_PREFIX, v, 2);
        if (v > 0 && v <= 0xFFFF_FFFFL) return le(DWORD_PREFIX, v, 4);
        return le(QWORD_PREFIX, v, 8);
    }

    /** {@code EisaId ("PNP0501")}: three letters and four hex digits packed into a DWord. */
    public static byte[] eisaId(String id) {
        if (!id.matches("[A-Z]{3}[0-9A-F]{4}")) throw new IllegalArgumentException("not an EISA id: " + id);
        int c1 = id.charAt(0) - 0x40;
        int c2 = id.charAt(1) - 0x40;
        int c3 = id.charAt(2) - 0x40;
        int product = Integer.parseInt(id.substring(3), 16);
        long v = ((c1 << 2) | (c2 >> 3))
                | ((((c2 & 7) << 5) | c3) << 8)
                | ((product >> 8) << 16)
                | ((long) (product & 0xFF) << 24);
        return le(DWORD_PREFIX, v, 4);
    }

    /**
     * A NameString: optional root ({@code \}) or parent ({@code ^}) prefixes, then dot-separated
     * segments of up to four characters, padded with '_' as ASL does.
     */
    public static byte[] nameString(String path) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        if (path.startsWith("\\")) {
            out.write(ROOT_CHAR);
            i = 1;
        } else {
            while (i < path.length() && path.charAt(i) == '^') {
                out.write(PARENT_PREFIX);
                i++;
            }
        }
        String rest = path.substring(i);
        String[] segs = rest.isEmpty() ? new String[0] : rest.split("\\.", -1);
        if (segs.length == 2) out.write(DUAL_NAME_PREFIX);
        if (segs.length > 2) {
            out.write(MULTI_NAME_PREFIX);
            out.write(segs.length);
        }
        if (segs.length == 0) out.write(0); // NullName
        for (String s : segs) {
            if (!s.matches("[A-Z_][A-Z0-9_]{0,3}")) throw new IllegalArgumentException("bad AML name segment '" + s + "' in " + path);
            out.writeBytes((s + "___").substring(0, 4).getBytes(StandardCharsets.US_ASCII));
        }
        return out.toByteArray();
    }

    /**
     * Prefixes {@code content} with its PkgLength. The encoded length counts the PkgLength bytes
     * themselves: one byte up to 63 in total, else a lead byte holding the count of following
     * bytes (bits 7:6) and the low nibble, then 8 bits per byte.
     */
    static byte[] withPkgLength(byte[] content) {
        return concat(pkgLength(content.length), content);
    }

    static byte[] pkgLength(int contentLength) {
        if (contentLength + 1 < 0x40) return new byte[] {(byte) (contentLength + 1)};
        for (int n = 2; n <= 4; n++) {
            int total = contentLength + n;
            if (total < (1 << (4 + 8 * (n - 1)))) {
                byte[] out = new byte[n];
                out[0] = (byte) (((n - 1) << 6) | (total & 0xF));
                for (int k = 1; k < n; k++) out[k] = (byte) (total >>> (4 + 8 * (k - 1)));
                return out;
            }
        }
        throw new IllegalArgumentException("AML package of " + contentLength + " bytes exceeds 2^28");
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    private static byte[] le(int prefix, long v, int bytes) {
        byte[] out = new byte[bytes + 1];
        out[0] = (byte) prefix;
        for (int k = 0; k < bytes; k++) out[k + 1] = (byte) (v >>> (8 * k));
        return out;
    }
}
