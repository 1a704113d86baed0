package io.jremus.replication.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * What a node knows durably about how its copy of a disk relates to the replicated dataset,
 * kept as a small JSON file next to the image ({@code <image>.jremus-sync}); DRBD's generation
 * UUIDs and on-disk activity log play this part there.
 *
 * <p>The promise the file makes: <em>the image's content equals the content the lineage
 * committed at {@code syncedEpoch}, except inside the extents listed in {@code activityLog}</em>.
 * {@code syncedEpoch = -1} promises nothing (the image must be copied in full).
 * A disk booted cold as a primary starts a new lineage (its content now diverges from any other
 * copy of the old one); {@code parentLineage}/{@code parentEpoch} record where it forked, so a
 * copy of the parent up to the fork point can still be resynced in part.
 *
 * <p>{@link #write} is atomic and durable (temporary file, fsync, rename, fsync of the
 * directory); {@link #read} treats the file as untrusted and refuses anything malformed with a
 * {@link DiskSyncMetaException} that names the file and the problem: the caller then falls back
 * to {@link #unknown()}, which costs a full copy and nothing else.
 *
 * @param lineage       the dataset's id, or null when unknown
 * @param syncedEpoch   the lineage's committed epoch the image holds (outside the activity log), -1 = unknown
 * @param activityLog   extent numbers (ascending, distinct) that may differ from that epoch's content
 * @param extentBytes   the extent size of {@code activityLog}, a power of two ≥ 4096
 * @param parentLineage the lineage this one forked from, or null
 * @param parentEpoch   the parent's committed epoch at the fork, -1 when there is no parent
 */
public record DiskSyncMeta(UUID lineage, long syncedEpoch, long[] activityLog, long extentBytes, UUID parentLineage,
                           long parentEpoch) {
    /** The suffix of the file next to the image. */
    public static final String SUFFIX = ".jremus-sync";
    /** Default activity-log extent: 1 MiB. */
    public static final long DEFAULT_EXTENT_BYTES = 1L << 20;
    /** A file larger than this is refused (a real one holds at most a few thousand extents). */
    static final int MAX_FILE_BYTES = 4 << 20;
    private static final int FORMAT = 1;

    public DiskSyncMeta {
        if (syncedEpoch < -1) throw new IllegalArgumentException("syncedEpoch " + syncedEpoch + " below -1");
        if (extentBytes < 4096 || Long.bitCount(extentBytes) != 1) {
            throw new IllegalArgumentException("extent size " + extentBytes + " is not a power of two ≥ 4096");
        }
        activityLog = activityLog.clone();
        for (int i = 0; i < activityLog.length; i++) {
            if (activityLog[i] < 0 || i > 0 && activityLog[i] <= activityLog[i - 1]) {
                throw new IllegalArgumentException("activity log " + Arrays.toString(activityLog) + " is not ascending, distinct, ≥ 0");
            }
        }
        if (syncedEpoch >= 0 && lineage == null) throw new IllegalArgumentException("a synced epoch needs a lineage");
        if ((parentLineage == null) != (parentEpoch < 0)) {
            throw new IllegalArgumentException("parent lineage " + parentLineage + " and parent epoch " + parentEpoch + " must both be set or unset");
        }
    }

    /** Nothing is known: a full copy. */
    public static DiskSyncMeta unknown() {
        return new DiskSyncMeta(null, -1, new long[0], DEFAULT_EXTENT_BYTES, null, -1);
    }

    /** A brand-new lineage whose epoch 0 is the image as it is now. */
    public static DiskSyncMeta newLineage() {
        return new DiskSyncMeta(UUID.randomUUID(), 0, new long[0], DEFAULT_EXTENT_BYTES, null, -1);
    }

    @Override
    public long[] activityLog() {
        return activityLog.clone();
    }

    public boolean known() {
        return syncedEpoch >= 0;
    }

    public DiskSyncMeta withSynced(UUID newLineage, long epoch, long[] extents) {
        return new DiskSyncMeta(newLineage, epoch, extents, extentBytes, parentLineage, parentEpoch);
    }

    /** The file for an image. */
    public static Path pathFor(Path image) {
        return image.resolveSibling(image.getFileName() + SUFFIX);
    }

    /** Reads the file; empty when there is none. Throws for a file that is there but not valid. */
    public static java.util.Optional<DiskSyncMeta> read(Path file) throws DiskSyncMetaException {
        byte[] raw;
        try {
            if (Files.size(file) > MAX_FILE_BYTES) throw new DiskSyncMetaException(file, "larger than " + MAX_FILE_BYTES + " bytes");
            raw = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return java.util.Optional.empty();
        } catch (IOException e) {
            throw new DiskSyncMetaException(file, "cannot read: " + e.getMessage());
        }
        try {
            return java.util.Optional.of(parse(new String(raw, StandardCharsets.UTF_8)));
        } catch (IllegalArgumentException e) {
            throw new DiskSyncMetaException(file, e.getMessage());
        }
    }

    /** Replaces the file atomically and durably: after a crash it holds either the old or this content. */
    public void write(Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        byte[] b = toJson().getBytes(StandardCharsets.UTF_8);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.wrap(b);
            while (buf.hasRemaining()) ch.write(buf);
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Path dir = file.toAbsolutePath().getParent();
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true); // the rename itself must survive a crash
        }
    }

    public String toJson() {
        StringBuilder s = new StringBuilder(64 + activityLog.length * 8);
        s.append("{\"format\":").append(FORMAT)
                .append(",\"lineage\":").append(lineage == null ? "null" : "\"" + lineage + "\"")
                .append(",\"syncedEpoch\":").append(syncedEpoch)
                .append(",\"extentBytes\":").append(extentBytes)
                .append(",\"activityLog\":[");
        for (int i = 0; i < activityLog.length; i++) s.append(i == 0 ? "" : ",").append(activityLog[i]);
        s.append("],\"parentLineage\":").append(parentLineage == null ? "null" : "\"" + parentLineage + "\"")
                .append(",\"parentEpoch\":").append(parentEpoch).append("}\n");
        return s.toString();
    }

    /** Parses exactly the shape {@link #toJson} writes (keys in any order); anything else is refused. */
    static DiskSyncMeta parse(String json) {
        JsonCursor c = new JsonCursor(json);
        c.expect('{');
        Integer format = null;
        UUID lineage = null, parent = null;
        Long synced = null, extent = null, parentEpoch = null;
        long[] al = null;
        boolean lineageSeen = false, parentSeen = false;
        do {
            String key = c.string();
            c.expect(':');
            switch (key) {
                case "format" -> format = (int) c.number();
                case "lineage" -> {
                    lineage = c.uuidOrNull();
                    lineageSeen = true;
                }
                case "syncedEpoch" -> synced = c.number();
                case "extentBytes" -> extent = c.number();
                case "activityLog" -> al = c.numbers();
                case "parentLineage" -> {
                    parent = c.uuidOrNull();
                    parentSeen = true;
                }
                case "parentEpoch" -> parentEpoch = c.number();
                default -> throw new IllegalArgumentException("unknown key \"" + key + "\"");
            }
        } while (c.comma());
        c.expect('}');
        c.end();
        if (format == null || format != FORMAT) throw new IllegalArgumentException("format " + format + ", expected " + FORMAT);
        if (!lineageSeen || synced == null || extent == null || al == null || !parentSeen || parentEpoch == null) {
            throw new IllegalArgumentException("a key is missing (needs lineage, syncedEpoch, extentBytes, activityLog, parentLineage, parentEpoch)");
        }
        return new DiskSyncMeta(lineage, synced, al, extent, parent, parentEpoch);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DiskSyncMeta m && Objects.equals(lineage, m.lineage) && syncedEpoch == m.syncedEpoch
                && Arrays.equals(activityLog, m.activityLog) && extentBytes == m.extentBytes
                && Objects.equals(parentLineage, m.parentLineage) && parentEpoch == m.parentEpoch;
    }

    @Override
    public int hashCode() {
        return Objects.hash(lineage, syncedEpoch, Arrays.hashCode(activityLog), extentBytes, parentLineage, parentEpoch);
    }

    @Override
    public String toString() {
        return "DiskSyncMeta[lineage " + lineage + ", synced epoch " + syncedEpoch + ", " + activityLog.length + " hot extents of "
                + (extentBytes >> 10) + " KiB" + (parentLineage == null ? "" : ", forked from " + parentLineage + "@" + parentEpoch) + "]";
    }

    /** A strict reader of the few JSON forms the file uses. */
    private static final class JsonCursor {
        private final String s;
        private int i;

        JsonCursor(String s) {
            this.s = s;
        }

        private void ws() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
        }

        void expect(char ch) {
            ws();
            if (i >= s.length() || s.charAt(i) != ch) throw new IllegalArgumentException("expected '" + ch + "' at offset " + i);
            i++;
        }

        boolean comma() {
            ws();
            if (i < s.length() && s.charAt(i) == ',') {
                i++;
                return true;
            }
            return false;
        }

        void end() {
            ws();
            if (i != s.length()) throw new IllegalArgumentException("trailing data at offset " + i);
        }

        String string() {
            expect('"');
            int start = i;
            while (i < s.length() && s.charAt(i) != '"') {
                char ch = s.charAt(i);
                if (ch == '\\' || ch < 0x20) throw new IllegalArgumentException("unexpected character in a string at offset " + i);
                i++;
            }
            if (i >= s.length()) throw new IllegalArgumentException("unterminated string at offset " + start);
            return s.substring(start, i++);
        }

        long number() {
            ws();
            int start = i;
            if (i < s.length() && s.charAt(i) == '-') i++;
            while (i < s.length() && Character.isDigit(s.charAt(i))) i++;
            if (i - start > 20 || i == start) throw new IllegalArgumentException("expected an integer at offset " + start);
            try {
                return Long.parseLong(s, start, i, 10);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad integer at offset " + start);
            }
        }

        UUID uuidOrNull() {
            ws();
            if (s.startsWith("null", i)) {
                i += 4;
                return null;
            }
            String v = string();
            try {
                UUID u = UUID.fromString(v);
                if (!u.toString().equals(v.toLowerCase(java.util.Locale.ROOT))) throw new IllegalArgumentException();
                return u;
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("\"" + v + "\" is not a UUID");
            }
        }

        long[] numbers() {
            expect('[');
            List<Long> out = new ArrayList<>();
            ws();
            if (i < s.length() && s.charAt(i) == ']') {
                i++;
                return new long[0];
            }
            do {
                out.add(number());
                if (out.size() > MAX_FILE_BYTES / 2) throw new IllegalArgumentException("activity log too long");
            } while (comma());
            expect(']');
            return out.stream().mapToLong(Long::longValue).toArray();
        }
    }
}
