package io.jremus.cli.image;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Writes a cpio archive in the "newc" format (magic {@code 070701}), the only format the Linux
 * kernel unpacks as an initramfs. Each entry is a 110-byte ASCII header of thirteen 8-digit hex
 * fields, the NUL-terminated name, padding to a multiple of 4, the data, padding to 4; the
 * archive ends with an entry named {@code TRAILER!!!}.
 *
 * <p>Entries are written in the order given, and the kernel creates them in that order, so a
 * directory must come before anything in it; this writer enforces that. Every entry gets
 * uid/gid 0 and mtime 0, which makes the archive (and so its sha256) depend only on its
 * content. Names are relative ("bin/sh"); a leading slash is dropped. The caller owns {@code out}
 * and compresses it if it wants to ({@link #finish} does not close it).
 */
public final class CpioNewcWriter {
    static final String MAGIC = "070701";
    static final String TRAILER = "TRAILER!!!";

    static final int S_IFDIR = 0040000;
    static final int S_IFREG = 0100000;
    static final int S_IFLNK = 0120000;
    static final int S_IFCHR = 0020000;

    private final OutputStream out;
    private final Set<String> directories = new HashSet<>();
    private final Set<String> names = new HashSet<>();
    private long written;
    private int nextInode = 1;
    private boolean finished;

    public CpioNewcWriter(OutputStream out) {
        this.out = out;
        directories.add("");
    }

    public void directory(String path, int permissions) throws IOException {
        String name = entry(path);
        write(name, S_IFDIR | permissions, 2, 0, 0, new byte[0]);
        directories.add(name);
    }

    public void file(String path, int permissions, byte[] data) throws IOException {
        write(entry(path), S_IFREG | permissions, 1, 0, 0, data);
    }

    /** A symbolic link; its data is the target path, without a terminating NUL. */
    public void symlink(String path, String target) throws IOException {
        write(entry(path), S_IFLNK | 0777, 1, 0, 0, target.getBytes(StandardCharsets.UTF_8));
    }

    /** A character device node, e.g. {@code dev/console} 5:1, so the kernel can open a console before devtmpfs is mounted. */
    public void charDevice(String path, int permissions, int major, int minor) throws IOException {
        write(entry(path), S_IFCHR | permissions, 1, major, minor, new byte[0]);
    }

    /** Writes the trailer. The writer accepts no entries afterwards. */
    public void finish() throws IOException {
        checkOpen();
        write(TRAILER, 0, 1, 0, 0, new byte[0]);
        finished = true;
        out.flush();
    }

    private String entry(String path) {
        checkOpen();
        String name = path.startsWith("/") ? path.substring(1) : path;
        if (name.isEmpty() || name.endsWith("/") || name.contains("//") || name.equals(TRAILER)) {
            throw new IllegalArgumentException("bad cpio entry name: '" + path + "'");
        }
        int slash = name.lastIndexOf('/');
        String parent = slash < 0 ? "" : name.substring(0, slash);
        if (!directories.contains(parent)) {
            throw new IllegalStateException("cpio entry '" + name + "' comes before its directory '" + parent + "'");
        }
        if (!names.add(name)) {
            throw new IllegalArgumentException("duplicate cpio entry '" + name + "'");
        }
        return name;
    }

    private void checkOpen() {
        if (finished) {
            throw new IllegalStateException("cpio archive already finished");
        }
    }

    private void write(String name, int mode, int nlink, int rdevMajor, int rdevMinor, byte[] data) throws IOException {
        byte[] nameBytes = (name + "\0").getBytes(StandardCharsets.UTF_8);
        int inode = name.equals(TRAILER) ? 0 : nextInode++;
        StringBuilder h = new StringBuilder(110).append(MAGIC);
        for (long field : new long[] {
                inode, mode, 0 /* uid */, 0 /* gid */, nlink, 0 /* mtime */, data.length,
                0 /* devmajor */, 0 /* devminor */, rdevMajor, rdevMinor, nameBytes.length, 0 /* check */}) {
            h.append(String.format(Locale.ROOT, "%08x", field));
        }
        emit(h.toString().getBytes(StandardCharsets.US_ASCII));
        emit(nameBytes);
        pad();
        emit(data);
        pad();
    }

    private void emit(byte[] b) throws IOException {
        out.write(b);
        written += b.length;
    }

    private void pad() throws IOException {
        while (written % 4 != 0) {
            out.write(0);
            written++;
        }
    }
}
