package io.jremus.replication.disk;

import io.jremus.vmm.devices.virtio.blk.VirtioBlk;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;

/**
 * One guest write as replicated: {@code length} bytes at a 512-byte {@code sector}, with its own
 * copy of the data (taken when the write completed, so a later write to the same sectors does not
 * change it). Immutable. Whether the sector range fits a disk is checked where a disk is known:
 * {@link EpochDiskBuffer#add} treats every write it receives as untrusted.
 */
public final class DiskWrite {
    private final long sector;
    private final byte[] data;

    private DiskWrite(long sector, byte[] data) {
        this.sector = sector;
        this.data = data;
    }

    /** Takes ownership of {@code data}: the caller must not touch it afterwards. */
    static DiskWrite wrap(long sector, byte[] data) {
        return new DiskWrite(sector, data);
    }

    /** A write of a copy of {@code data} at {@code sector}. */
    public static DiskWrite copyOf(long sector, MemorySegment data) {
        return new DiskWrite(sector, data.toArray(ValueLayout.JAVA_BYTE));
    }

    public static DiskWrite copyOf(long sector, byte[] data) {
        return new DiskWrite(sector, data.clone());
    }

    public long sector() {
        return sector;
    }

    /** Byte offset on the disk; meaningful only for a sector already checked to be in range. */
    public long offset() {
        return sector << VirtioBlk.SECTOR_SHIFT;
    }

    public int length() {
        return data.length;
    }

    /** A read-only view of the data (no copy). */
    public ByteBuffer data() {
        return ByteBuffer.wrap(data).asReadOnlyBuffer();
    }

    /** A read-only segment over the data (no copy), for a stream encoder. */
    public MemorySegment segment() {
        return MemorySegment.ofArray(data).asReadOnly();
    }

    public byte[] toArray() {
        return data.clone();
    }

    @Override
    public String toString() {
        return "DiskWrite[sector " + sector + ", " + data.length + " bytes]";
    }
}
