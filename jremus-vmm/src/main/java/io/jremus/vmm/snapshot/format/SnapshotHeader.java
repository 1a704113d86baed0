package io.jremus.vmm.snapshot.format;

import io.jremus.vmm.snapshot.SnapshotException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * The HEADER record's body: what a snapshot is and what it fits.
 *
 * @param pageSize     guest page size in bytes (4096)
 * @param kind         FULL (every page) or DIFF (pages dirtied since the parent)
 * @param sequence     0 for a full snapshot, parent's + 1 for a diff
 * @param vcpus        vCPU count
 * @param memoryBytes  total guest RAM
 * @param id           16 random bytes naming this snapshot
 * @param parentId     the id of the snapshot this diff applies on; zero for FULL
 * @param configDigest SHA-256 of the VM's machine shape ({@link ConfigToml#digest})
 * @param createdMillis wall-clock time of capture (informative only)
 * @param regions      guest-physical RAM regions, sorted, non-overlapping
 */
public record SnapshotHeader(int pageSize, Kind kind, int sequence, int vcpus, long memoryBytes, byte[] id,
                             byte[] parentId, byte[] configDigest, long createdMillis, List<Region> regions) {
    public enum Kind { FULL, DIFF }

    /** One guest-physical RAM range. */
    public record Region(long guestAddress, long size) {
    }

    public static final int PAGE_SIZE = 4096;
    public static final int ID_BYTES = 16;
    public static final int DIGEST_BYTES = 32;
    public static final int MAX_REGIONS = 64;
    private static final int FIXED = 4 * 4 + 8 + ID_BYTES * 2 + DIGEST_BYTES + 8 + 8;

    public SnapshotHeader {
        Objects.requireNonNull(kind);
        regions = List.copyOf(regions);
        id = id.clone();
        parentId = parentId.clone();
        configDigest = configDigest.clone();
    }

    public String idHex() {
        return HexFormat.of().formatHex(id);
    }

    public boolean isChildOf(SnapshotHeader parent) {
        return Arrays.equals(parentId, parent.id);
    }

    public byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(FIXED + 16 * regions.size()).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(pageSize).putInt(kind.ordinal()).putInt(sequence).putInt(vcpus).putLong(memoryBytes);
        b.put(id).put(parentId).put(configDigest).putLong(createdMillis).putInt(regions.size()).putInt(0);
        for (Region r : regions) b.putLong(r.guestAddress()).putLong(r.size());
        return b.array();
    }

    /** Decodes and checks a HEADER body; the message says which field is wrong and its value. */
    public static SnapshotHeader decode(byte[] body) throws SnapshotException {
        if (body.length < FIXED) throw corrupt("HEADER is " + body.length + " bytes, need at least " + FIXED);
        ByteBuffer b = ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN);
        int pageSize = b.getInt();
        int kind = b.getInt();
        int seq = b.getInt();
        int vcpus = b.getInt();
        long mem = b.getLong();
        byte[] id = new byte[ID_BYTES];
        byte[] parent = new byte[ID_BYTES];
        byte[] digest = new byte[DIGEST_BYTES];
        b.get(id).get(parent).get(digest);
        long created = b.getLong();
        int n = b.getInt();
        int reserved = b.getInt();
        if (pageSize != PAGE_SIZE) throw new SnapshotException(SnapshotException.Kind.MISMATCH, "page size " + pageSize + " (this VMM uses " + PAGE_SIZE + ")");
        if (kind != 0 && kind != 1) throw corrupt("HEADER kind " + kind + " is neither FULL (0) nor DIFF (1)");
        if (seq < 0 || (kind == 0) != (seq == 0)) throw corrupt("HEADER sequence " + seq + " for kind " + (kind == 0 ? "FULL" : "DIFF"));
        if (vcpus < 1 || vcpus > 1024) throw corrupt("HEADER vCPU count " + vcpus);
        if (reserved != 0) throw corrupt("HEADER reserved field is 0x" + Integer.toHexString(reserved));
        if (n < 1 || n > MAX_REGIONS || body.length != FIXED + 16L * n) {
            throw corrupt("HEADER says " + n + " memory regions in " + body.length + " bytes");
        }
        boolean zeroParent = Arrays.equals(parent, new byte[ID_BYTES]);
        if ((kind == 0) != zeroParent) throw corrupt("HEADER parent id " + (zeroParent ? "missing in a DIFF" : "set in a FULL snapshot"));
        List<Region> regions = new ArrayList<>();
        long total = 0;
        long end = 0;
        for (int i = 0; i < n; i++) {
            long gpa = b.getLong();
            long size = b.getLong();
            if (gpa < end || size <= 0 || (gpa | size) % PAGE_SIZE != 0 || gpa + size < gpa || size > (1L << 40)) {
                throw corrupt("HEADER region " + i + " [0x" + Long.toHexString(gpa) + ", +0x" + Long.toHexString(size) + ") is not page-aligned, sorted and disjoint");
            }
            end = gpa + size;
            total += size;
            regions.add(new Region(gpa, size));
        }
        if (total != mem) throw corrupt("HEADER memory size " + mem + " but regions total " + total);
        return new SnapshotHeader(pageSize, kind == 0 ? Kind.FULL : Kind.DIFF, seq, vcpus, mem, id, parent, digest, created, regions);
    }

    private static SnapshotException corrupt(String m) {
        return new SnapshotException(SnapshotException.Kind.CORRUPT, m);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SnapshotHeader h && Arrays.equals(id, h.id);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(id);
    }

    @Override
    public String toString() {
        return "SnapshotHeader[" + kind + " #" + sequence + " id=" + idHex() + ", " + vcpus + " vCPUs, " + (memoryBytes >> 20) + " MiB]";
    }
}
