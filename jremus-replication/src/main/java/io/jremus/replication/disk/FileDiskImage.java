package io.jremus.replication.disk;

import io.jremus.vmm.devices.virtio.blk.VirtioBlk;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A raw image file on the backup, written with positional {@link FileChannel} writes and synced
 * with {@code force(false)} (fdatasync on Linux). Like the VMM's RawImageFile, a trailing
 * partial sector is not part of the disk, and the size is taken once at open.
 */
public final class FileDiskImage implements DiskImage {
    private final Path path;
    private final FileChannel channel;
    private final long size;

    private FileDiskImage(Path path, FileChannel channel, long size) {
        this.path = path;
        this.channel = channel;
        this.size = size;
    }

    public static FileDiskImage open(Path path) throws IOException {
        if (!Files.isRegularFile(path)) throw new IOException("backup disk image " + path + " is not a regular file");
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        long bytes = ch.size() & ~(long) (VirtioBlk.SECTOR_SIZE - 1);
        if (bytes == 0) {
            ch.close();
            throw new IOException("backup disk image " + path + " is smaller than one 512-byte sector");
        }
        return new FileDiskImage(path, ch, bytes);
    }

    @Override
    public long sizeBytes() {
        return size;
    }

    @Override
    public void write(long offset, ByteBuffer data) throws IOException {
        long pos = offset;
        while (data.hasRemaining()) {
            int n = channel.write(data, pos);
            pos += n;
        }
    }

    /** Empties the image (every byte reads zero; the file becomes sparse) at its size, and syncs. */
    public void zeroAll() throws IOException {
        channel.truncate(0);
        channel.write(ByteBuffer.allocate(1), channel.size() + size - 1);
        channel.force(true);
    }

    @Override
    public void sync() throws IOException {
        channel.force(false);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public String toString() {
        return "FileDiskImage[" + path + ", " + size + " bytes]";
    }
}
