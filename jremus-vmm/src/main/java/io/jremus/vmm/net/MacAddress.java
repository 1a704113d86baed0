package io.jremus.vmm.net;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * A 48-bit Ethernet address, held in the low 48 bits of a long (first octet most significant).
 * {@link #parse} accepts only the colon form {@code 52:54:00:12:34:56}; it does not judge
 * whether the address is usable for a NIC, which is the config validation's job.
 */
public record MacAddress(long bits) {
    private static final Pattern COLON_FORM = Pattern.compile("\\p{XDigit}{2}(:\\p{XDigit}{2}){5}");
    /** The prefix QEMU and most KVM tools use for locally made-up guest NICs. */
    private static final long KVM_OUI = 0x52_54_00L;

    public MacAddress {
        if ((bits & ~0xFFFF_FFFF_FFFFL) != 0) {
            throw new IllegalArgumentException("MAC address has more than 48 bits: " + Long.toHexString(bits));
        }
    }

    /** Parses {@code xx:xx:xx:xx:xx:xx} (either case), or throws {@link IllegalArgumentException}. */
    public static MacAddress parse(String text) {
        if (text == null || !COLON_FORM.matcher(text).matches()) {
            throw new IllegalArgumentException("not a MAC address: " + text);
        }
        return new MacAddress(Long.parseLong(text.replace(":", ""), 16));
    }

    /**
     * A MAC address under 52:54:00 derived only from {@code seed}. Because it does not depend on
     * the host or on chance, the primary and the backup compute the same address from the same
     * config, which a failover needs: the guest's MAC must not change when it moves.
     */
    public static MacAddress derived(String seed) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(seed.getBytes(StandardCharsets.UTF_8));
            long low = ((h[0] & 0xFFL) << 16) | ((h[1] & 0xFFL) << 8) | (h[2] & 0xFFL);
            return new MacAddress((KVM_OUI << 24) | low);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }

    /** The six octets, first octet first (the order on the wire). */
    public byte[] bytes() {
        byte[] b = new byte[6];
        for (int i = 0; i < 6; i++) {
            b[i] = (byte) (bits >>> (40 - 8 * i));
        }
        return b;
    }

    /** Group (multicast or broadcast) addresses have the low bit of the first octet set. */
    public boolean isMulticast() {
        return ((bits >>> 40) & 1) != 0;
    }

    @Override
    public String toString() {
        return HexFormat.ofDelimiter(":").formatHex(bytes());
    }
}
