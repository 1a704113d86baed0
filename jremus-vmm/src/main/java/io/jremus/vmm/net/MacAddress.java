package io.jremus.vmm.net;

import java.util.HexFormat;

/**
 * A 48-bit Ethernet MAC address, e.g. {@code 52:54:00:12:34:56}. Immutable; the bytes are
 * copied in and out.
 */
public record MacAddress(byte[] bytes) {
    public static final int LENGTH = 6;

    public MacAddress {
        if (bytes.length != LENGTH) throw new IllegalArgumentException("a MAC address has 6 bytes, not " + bytes.length);
        bytes = bytes.clone();
    }

    /** Parses {@code aa:bb:cc:dd:ee:ff} (also with '-'); case-insensitive. */
    public static MacAddress parse(String text) {
        String[] parts = text.split("[:-]");
        if (parts.length != LENGTH) throw new IllegalArgumentException("not a MAC address: '" + text + "'");
        byte[] b = new byte[LENGTH];
        for (int i = 0; i < LENGTH; i++) {
            if (parts[i].length() != 2) throw new IllegalArgumentException("not a MAC address: '" + text + "'");
            try {
                b[i] = (byte) Integer.parseInt(parts[i], 16);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a MAC address: '" + text + "'");
            }
        }
        return new MacAddress(b);
    }

    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    public byte get(int i) {
        return bytes[i];
    }

    /** Whether the group bit is set (broadcast/multicast), which a NIC's own address must not have. */
    public boolean isMulticast() {
        return (bytes[0] & 1) != 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MacAddress m && java.util.Arrays.equals(bytes, m.bytes);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return HexFormat.ofDelimiter(":").formatHex(bytes);
    }
}
