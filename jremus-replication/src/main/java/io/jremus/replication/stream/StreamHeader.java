package io.jremus.replication.stream;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * The stream header (docs/stream-format.md §3.1): what the primary tells the backup before any
 * record. {@link #decode} validates everything the format requires; {@link #requireCompatible}
 * checks that it describes the same VM as the receiver's own configuration.
 *
 * @param sessionId    16 octets chosen by the primary for this session
 * @param startEpoch   the number of the session's first epoch
 * @param configDigest 32 octets identifying the VM configuration, opaque to the stream
 * @param regions      guest RAM, sorted, page-aligned, not overlapping, 1 to 64 of them
 */
public record StreamHeader(UUID sessionId, long startEpoch, byte[] configDigest, List<Region> regions) {
    /** {@code 89 4A 52 45 4D 55 53 46}: 0x89 then "JREMUSF", as a little-endian u64. */
    public static final long MAGIC = 0x4653554D45524A89L;
    public static final int VERSION = 2;
    public static final int PAGE_SHIFT = 12;
    public static final int PAGE_SIZE = 1 << PAGE_SHIFT;
    public static final int DIGEST_LENGTH = 32;
    public static final int MAX_REGIONS = 64;
    /** Octets before the regions. */
    static final int FIXED = 72;
    /** Octets of the first read: magic, version, page shift, flags, region count. */
    static final int PREFIX = 16;

    /** One guest RAM region: guest-physical start and size in octets, both page multiples. */
    public record Region(long guestAddress, long size) {
        public long endAddress() {
            return guestAddress + size;
        }

        @Override
        public String toString() {
            return String.format("0x%x+0x%x", guestAddress, size);
        }
    }

    public StreamHeader {
        Objects.requireNonNull(sessionId, "sessionId");
        Objects.requireNonNull(configDigest, "configDigest");
        if (configDigest.length != DIGEST_LENGTH) {
            throw new IllegalArgumentException("config digest has " + configDigest.length + " octets, not " + DIGEST_LENGTH);
        }
        configDigest = configDigest.clone();
        regions = List.copyOf(regions);
        String problem = regionProblem(regions);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
    }

    @Override
    public byte[] configDigest() {
        return configDigest.clone();
    }

    /** Octets this header occupies on the wire. */
    public int encodedSize() {
        return FIXED + 16 * regions.size() + 8;
    }

    /** Whether guest frame {@code gfn} lies inside a region. */
    public boolean containsFrame(long gfn) {
        if (gfn < 0 || gfn > (Long.MAX_VALUE >>> PAGE_SHIFT)) {
            return false;
        }
        long a = gfn << PAGE_SHIFT;
        for (int i = 0; i < regions.size(); i++) {
            Region r = regions.get(i);
            if (a >= r.guestAddress() && a - r.guestAddress() < r.size()) {
                return true;
            }
        }
        return false;
    }

    /** The header's wire form. */
    public byte[] encode() {
        byte[] b = new byte[encodedSize()];
        Le.put64(b, 0, MAGIC);
        Le.put16(b, 8, VERSION);
        b[10] = PAGE_SHIFT;
        b[11] = 0;
        Le.put32(b, 12, regions.size());
        ByteBuffer.wrap(b, 16, 16).putLong(sessionId.getMostSignificantBits()).putLong(sessionId.getLeastSignificantBits());
        Le.put64(b, 32, startEpoch);
        System.arraycopy(configDigest, 0, b, 40, DIGEST_LENGTH);
        int p = FIXED;
        for (Region r : regions) {
            Le.put64(b, p, r.guestAddress());
            Le.put64(b, p + 8, r.size());
            p += 16;
        }
        CRC32C crc = new CRC32C();
        crc.update(b, 0, p);
        Le.put32(b, p, (int) crc.getValue());
        return b;
    }

    /**
     * Checks the first {@link #PREFIX} octets (magic, version, page size, region count) and returns
     * the header's full size, so a reader knows how much more to read.
     */
    static int checkPrefix(byte[] b) throws StreamException {
        long magic = Le.i64(b, 0);
        if (magic != MAGIC) {
            throw StreamException.atOffset(StreamException.Kind.HEADER, 0,
                    String.format("bad magic 0x%016x, expected 0x%016x (not a jremus replication stream)", magic, MAGIC));
        }
        int version = Le.u16(b, 8);
        if (version != VERSION) {
            throw StreamException.atOffset(StreamException.Kind.HEADER, 8, "stream version " + version + ", this receiver reads version " + VERSION);
        }
        int shift = b[10] & 0xFF;
        if (shift != PAGE_SHIFT) {
            throw StreamException.atOffset(StreamException.Kind.HEADER, 10,
                    "page shift " + shift + " (page size " + (shift < 63 ? Long.toString(1L << shift) : "2^" + shift) + "), expected " + PAGE_SHIFT + " (" + PAGE_SIZE + ")");
        }
        if (b[11] != 0) {
            throw StreamException.atOffset(StreamException.Kind.HEADER, 11, String.format("reserved flags 0x%02x not zero", b[11]));
        }
        long count = Le.u32(b, 12);
        if (count < 1 || count > MAX_REGIONS) {
            throw StreamException.atOffset(StreamException.Kind.HEADER, 12, "region count " + count + " not in 1.." + MAX_REGIONS);
        }
        return FIXED + 16 * (int) count + 8;
    }

    /** Decodes and validates a whole header ({@code b.length} = the size {@link #checkPrefix} gave). */
    static StreamHeader decode(byte[] b) throws StreamException {
        int size = checkPrefix(b);
        if (b.length != size) {
            throw new IllegalArgumentException("header buffer of " + b.length + " octets, expected " + size);
        }
        int end = size - 8;
        CRC32C crc = new CRC32C();
        crc.update(b, 0, end);
        int want = (int) crc.getValue();
        int got = Le.i32(b, end);
        if (want != got) {
            throw StreamException.atOffset(StreamException.Kind.HEADER, end, String.format("header CRC mismatch 0x%08x != 0x%08x", got, want));
        }
        if (Le.i32(b, end + 4) != 0) {
            throw StreamException.atOffset(StreamException.Kind.HEADER, end + 4, "reserved field after the header CRC not zero");
        }
        ByteBuffer be = ByteBuffer.wrap(b, 16, 16);
        UUID session = new UUID(be.getLong(), be.getLong());
        long startEpoch = Le.i64(b, 32);
        byte[] digest = Arrays.copyOfRange(b, 40, 40 + DIGEST_LENGTH);
        int n = (int) Le.u32(b, 12);
        Region[] regions = new Region[n];
        for (int i = 0; i < n; i++) {
            regions[i] = new Region(Le.i64(b, FIXED + 16 * i), Le.i64(b, FIXED + 16 * i + 8));
        }
        List<Region> list = Arrays.asList(regions);
        String problem = regionProblem(list);
        if (problem != null) {
            throw StreamException.atOffset(StreamException.Kind.HEADER, FIXED, problem);
        }
        return new StreamHeader(session, startEpoch, digest, list);
    }

    private static String regionProblem(List<Region> regions) {
        if (regions.isEmpty() || regions.size() > MAX_REGIONS) {
            return "region count " + regions.size() + " not in 1.." + MAX_REGIONS;
        }
        long prevEnd = 0;
        for (int i = 0; i < regions.size(); i++) {
            Region r = regions.get(i);
            if (r.guestAddress() < 0 || r.size() <= 0 || ((r.guestAddress() | r.size()) & (PAGE_SIZE - 1)) != 0) {
                return "region " + i + " (" + r + ") is empty, negative or not page-aligned";
            }
            if (r.guestAddress() > Long.MAX_VALUE - r.size()) {
                return "region " + i + " (" + r + ") overflows the address space";
            }
            if (i > 0 && r.guestAddress() < prevEnd) {
                return "region " + i + " (" + r + ") overlaps or precedes region " + (i - 1) + " (" + regions.get(i - 1) + ")";
            }
            prevEnd = r.endAddress();
        }
        return null;
    }

    /**
     * Checks that this (received) header describes the VM the receiver is configured for: same
     * config digest and memory layout.
     */
    public void requireCompatible(byte[] localDigest, List<Region> localRegions) throws StreamException {
        if (!Arrays.equals(configDigest, localDigest)) {
            HexFormat hex = HexFormat.of();
            throw new StreamException(StreamException.Kind.MISMATCH, "session " + sessionId + ": config digest "
                    + hex.formatHex(configDigest, 0, 8) + "… differs from this node's " + hex.formatHex(localDigest, 0, Math.min(8, localDigest.length)) + "…");
        }
        if (!regions.equals(List.copyOf(localRegions))) {
            throw new StreamException(StreamException.Kind.MISMATCH, "session " + sessionId + ": guest memory layout " + regions
                    + " differs from this node's " + localRegions);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StreamHeader h && sessionId.equals(h.sessionId) && startEpoch == h.startEpoch
                && Arrays.equals(configDigest, h.configDigest) && regions.equals(h.regions);
    }

    @Override
    public int hashCode() {
        return Objects.hash(sessionId, startEpoch, Arrays.hashCode(configDigest), regions);
    }

    @Override
    public String toString() {
        return "StreamHeader[session=" + sessionId + ", startEpoch=" + startEpoch + ", digest="
                + HexFormat.of().formatHex(configDigest) + ", regions=" + regions + "]";
    }
}
