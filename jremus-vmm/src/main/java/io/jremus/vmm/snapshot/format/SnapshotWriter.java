package io.jremus.vmm.snapshot.format;

import io.jremus.vmm.config.VmConfig;
import io.jremus.vmm.memory.DirtyPages;
import io.jremus.vmm.memory.GuestMemory;
import io.jremus.vmm.memory.MemoryRegion;
import io.jremus.vmm.snapshot.SnapshotException;
import io.jremus.vmm.snapshot.SnapshotProgress;
import io.jremus.vmm.snapshot.VcpuState;
import io.jremus.vmm.snapshot.VmSnapshotState;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a snapshot file ({@code docs/snapshot-format.md}): HEADER, CONFIG, the state records,
 * then memory as PAGE_DATA runs (up to 256 contiguous non-zero pages each) and ZERO_PAGES runs,
 * then END. A FULL snapshot covers every page; a DIFF covers the pages of a {@link DirtyPages}
 * harvest. The file appears under its name only when complete (written as {@code name.tmp},
 * forced to disk, then renamed), so a crash never leaves a valid-looking partial snapshot.
 *
 * <p>The VM must stay paused while this runs: memory is read straight from guest RAM.
 */
public final class SnapshotWriter {
    private static final int MAX_RUN = 256;
    private static final int MAX_ZERO_RUNS = 4096;
    private static final MemorySegment ZERO_PAGE = Arena.global().allocate(SnapshotHeader.PAGE_SIZE, 64);
    private static final SecureRandom RANDOM = new SecureRandom();

    private SnapshotWriter() {
    }

    /** What was written. */
    public record Result(Path path, SnapshotHeader header, long bytes, long dataPages, long zeroPages, long nanos) {
    }

    /**
     * @param dirty  null for a FULL snapshot; otherwise the pages dirtied since {@code parent}
     * @param parent the previous snapshot of the chain (required with {@code dirty})
     */
    public static Result write(Path out, VmConfig config, VmSnapshotState state, GuestMemory memory, DirtyPages dirty,
                               SnapshotHeader parent, SnapshotProgress progress) throws SnapshotException {
        if ((dirty == null) != (parent == null)) throw new IllegalArgumentException("a diff needs both the dirty pages and its parent");
        long t0 = System.nanoTime();
        List<SnapshotHeader.Region> regions = new ArrayList<>();
        for (MemoryRegion r : memory.regions()) regions.add(new SnapshotHeader.Region(r.guestAddress(), r.size()));
        byte[] id = new byte[SnapshotHeader.ID_BYTES];
        RANDOM.nextBytes(id);
        SnapshotHeader header = new SnapshotHeader(SnapshotHeader.PAGE_SIZE,
                dirty == null ? SnapshotHeader.Kind.FULL : SnapshotHeader.Kind.DIFF, parent == null ? 0 : parent.sequence() + 1,
                state.vcpus().size(), memory.size(), id, parent == null ? new byte[SnapshotHeader.ID_BYTES] : parent.id(),
                ConfigToml.digest(config), System.currentTimeMillis(), regions);
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            RecordWriter w = new RecordWriter(ch);
            w.record(RecordType.HEADER, header.encode());
            w.record(RecordType.CONFIG, ConfigToml.render(config).getBytes(StandardCharsets.UTF_8));
            writeState(w, state);
            Pages pages = new Pages(w, memory, dirty == null ? memory.size() / SnapshotHeader.PAGE_SIZE : dirty.count(), progress);
            if (dirty == null) {
                for (int i = 0; i < memory.regions().size(); i++) {
                    MemoryRegion r = memory.regions().get(i);
                    for (long p = 0; p < r.pages(); p++) pages.add(r, p);
                }
            } else {
                for (int i = 0; i < dirty.regionCount(); i++) {
                    MemoryRegion r = memory.regions().get(i);
                    long[] words = dirty.bitmap(i);
                    for (int wi = 0; wi < words.length; wi++) {
                        for (long bits = words[wi]; bits != 0; bits &= bits - 1) pages.add(r, (long) wi * 64 + Long.numberOfTrailingZeros(bits));
                    }
                }
            }
            pages.finish();
            w.record(RecordType.END, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(pages.data).putLong(pages.zero).array());
            w.close();
            ch.force(true);
            long bytes = ch.size();
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return new Result(out, header, bytes, pages.data, pages.zero, System.nanoTime() - t0);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the write error is the one to report
            }
            throw new SnapshotException(SnapshotException.Kind.IO, "writing " + out + ": " + e.getMessage(), e);
        }
    }

    private static void writeState(RecordWriter w, VmSnapshotState s) throws IOException {
        w.record(RecordType.VM_STATE, StateCodec.encodeVm(s.vm()));
        for (VcpuState v : s.vcpus()) w.record(RecordType.VCPU_STATE, StateCodec.encodeVcpu(v));
        w.record(RecordType.SERIAL_STATE, StateCodec.encodeSerial(s.devices().serial()));
        int disks = s.devices().disks().size();
        for (int slot = 0; slot < s.devices().transports().size(); slot++) {
            w.record(RecordType.VIRTIO_MMIO_STATE, StateCodec.encodeTransport(slot, s.devices().transports().get(slot)));
            if (slot < disks) w.record(RecordType.VIRTIO_BLK_STATE, StateCodec.encodeBlk(slot, s.devices().disks().get(slot)));
            else w.record(RecordType.VIRTIO_NET_STATE, StateCodec.encodeNet(slot, s.devices().nets().get(slot - disks)));
        }
    }

    /** Groups pages, in ascending order, into PAGE_DATA and ZERO_PAGES records. */
    private static final class Pages {
        private final RecordWriter w;
        private final long total;
        private final SnapshotProgress progress;
        private final ByteBuffer zeroRuns = ByteBuffer.allocate(8 + MAX_ZERO_RUNS * 16).order(ByteOrder.LITTLE_ENDIAN);
        private int zeroRunCount;
        private long zeroStart = -1;
        private long zeroLen;
        private MemoryRegion runRegion;
        private long runFirst = -1;
        private int runLen;
        long data;
        long zero;

        Pages(RecordWriter w, GuestMemory memory, long total, SnapshotProgress progress) {
            this.w = w;
            this.total = total;
            this.progress = progress;
            zeroRuns.position(8);
        }

        void add(MemoryRegion r, long page) throws IOException {
            long off = page * SnapshotHeader.PAGE_SIZE;
            boolean isZero = MemorySegment.mismatch(r.host(), off, off + SnapshotHeader.PAGE_SIZE, ZERO_PAGE, 0, SnapshotHeader.PAGE_SIZE) == -1;
            long gpa = r.guestAddress() + off;
            if (isZero) {
                zero++;
                if (zeroStart >= 0 && zeroStart + zeroLen * SnapshotHeader.PAGE_SIZE == gpa) {
                    zeroLen++;
                } else {
                    closeZeroRun();
                    zeroStart = gpa;
                    zeroLen = 1;
                }
            } else {
                data++;
                if (runLen > 0 && (runRegion != r || runFirst + runLen != page || runLen == MAX_RUN)) flushRun();
                if (runLen == 0) {
                    runRegion = r;
                    runFirst = page;
                }
                runLen++;
            }
            long done = data + zero;
            if ((done & 255) == 0) progress.update(done, total);
        }

        private void closeZeroRun() throws IOException {
            if (zeroStart < 0) return;
            zeroRuns.putLong(zeroStart).putLong(zeroLen);
            zeroStart = -1;
            if (++zeroRunCount == MAX_ZERO_RUNS) flushZero();
        }

        private void flushZero() throws IOException {
            if (zeroRunCount == 0) return;
            zeroRuns.putInt(0, zeroRunCount).putInt(4, 0);
            byte[] body = new byte[zeroRuns.position()];
            zeroRuns.get(0, body);
            w.record(RecordType.ZERO_PAGES, body);
            zeroRuns.clear().position(8);
            zeroRunCount = 0;
        }

        private void flushRun() throws IOException {
            if (runLen == 0) return;
            long off = runFirst * SnapshotHeader.PAGE_SIZE;
            w.pages(runRegion.guestAddress() + off, runRegion.host().asSlice(off, (long) runLen * SnapshotHeader.PAGE_SIZE), runLen);
            runLen = 0;
        }

        void finish() throws IOException {
            flushRun();
            closeZeroRun();
            flushZero();
            progress.update(total, total);
        }
    }
}
