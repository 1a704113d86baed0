package io.jremus.vmm.devices.acpi;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The 36-byte header every ACPI system description table starts with, and the checksum rule:
 * all bytes of a table sum to zero modulo 256.
 */
final class Sdt {
    static final int HEADER_SIZE = 36;
    static final String OEM_ID = "JREMUS";
    static final String OEM_TABLE_ID = "JREMUSVM";
    static final String CREATOR_ID = "JRMS";
    static final int OFF_LENGTH = 4;
    static final int OFF_CHECKSUM = 9;

    private Sdt() {
    }

    /** A zeroed table of {@code length} bytes with its header filled in; the caller fills the body. */
    static ByteBuffer start(String signature, int revision, int length) {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(ascii(signature, 4));
        b.putInt(length);
        b.put((byte) revision);
        b.put((byte) 0); // checksum, set by finish()
        b.put(ascii(OEM_ID, 6));
        b.put(ascii(OEM_TABLE_ID, 8));
        b.putInt(1); // OEM revision
        b.put(ascii(CREATOR_ID, 4));
        b.putInt(1); // creator revision
        return b;
    }

    /** Sets the checksum byte so the whole table sums to 0. */
    static byte[] finish(ByteBuffer table) {
        byte[] t = table.array();
        t[OFF_CHECKSUM] = 0;
        t[OFF_CHECKSUM] = checksum(t, 0, t.length);
        return t;
    }

    /** The byte that makes [from, to) sum to zero. */
    static byte checksum(byte[] b, int from, int to) {
        int sum = 0;
        for (int i = from; i < to; i++) sum += b[i];
        return (byte) -sum;
    }

    static byte[] ascii(String s, int width) {
        byte[] out = new byte[width];
        byte[] in = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(in, 0, out, 0, Math.min(width, in.length));
        return out;
    }
}
