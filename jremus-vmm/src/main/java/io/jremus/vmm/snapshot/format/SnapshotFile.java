package io.jremus.vmm.snapshot.format;

import io.jremus.vmm.devices.serial.SerialState;
import io.jremus.vmm.devices.virtio.VirtioMmioState;
import io.jremus.vmm.devices.virtio.blk.VirtioBlkState;
import io.jremus.vmm.devices.virtio.net.VirtioNetState;
import io.jremus.vmm.memory.GuestMemory;
import io.jremus.vmm.memory.MemoryRegion;
import io.jremus.vmm.snapshot.DeviceStates;
import io.jremus.vmm.snapshot.SnapshotException;
import io.jremus.vmm.snapshot.SnapshotProgress;
import io.jremus.vmm.snapshot.VcpuState;
import io.jremus.vmm.snapshot.VmSnapshotState;
import io.jremus.vmm.snapshot.VmState;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * One snapshot file, opened and checked up to its memory records: preamble, HEADER, CONFIG and
 * every state record are read, CRC-checked, decoded and validated in {@link #open}, and the
 * record order is enforced (singletons once, vCPUs 0..n-1, each virtio slot's transport followed
 * by its device record, disks before NICs). Nothing of a VM is touched here. The memory records
 * are read later by {@link #loadMemory}, which checks each one before copying it.
 */
public final class SnapshotFile implements AutoCloseable {
    private final Path path;
    private final RecordReader reader;
    private final SnapshotHeader header;
    private final String configToml;
    private final VmSnapshotState state;
    private final long memoryOffset;
    private final int memoryIndex;

    private SnapshotFile(Path path, RecordReader reader, SnapshotHeader header, String configToml, VmSnapshotState state,
                         long memoryOffset, int memoryIndex) {
        this.path = path;
        this.reader = reader;
        this.header = header;
        this.configToml = configToml;
        this.state = state;
        this.memoryOffset = memoryOffset;
        this.memoryIndex = memoryIndex;
    }

    /** Reads only the preamble and HEADER (to find a diff's parent among sibling files). */
    public static SnapshotHeader readHeader(Path path) throws SnapshotException {
        try (RecordReader r = new RecordReader(path.getFileName().toString(), channel(path))) {
            return header(r);
        } catch (IOException e) {
            throw new SnapshotException(SnapshotException.Kind.IO, path + ": " + e.getMessage(), e);
        }
    }

    public static SnapshotFile open(Path path) throws SnapshotException {
        RecordReader r = new RecordReader(path.getFileName().toString(), channel(path));
        try {
            SnapshotHeader h = header(r);
            String config = null;
            VmState vm = null;
            List<VcpuState> vcpus = new ArrayList<>();
            SerialState serial = null;
            List<VirtioMmioState> transports = new ArrayList<>();
            List<VirtioBlkState> disks = new ArrayList<>();
            List<VirtioNetState> nets = new ArrayList<>();
            boolean deviceDue = false;
            while (true) {
                long off = r.offset();
                RecordType t = r.next();
                switch (t) {
                    case HEADER -> throw r.corrupt("duplicate " + r.where());
                    case CONFIG -> {
                        if (config != null) throw r.corrupt("duplicate " + r.where());
                        try {
                            config = StandardCharsets.UTF_8.newDecoder().decode(r.body()).toString();
                        } catch (CharacterCodingException e) {
                            throw r.corrupt(r.where() + ": not UTF-8");
                        }
                    }
                    case VM_STATE -> {
                        if (vm != null) throw r.corrupt("duplicate " + r.where());
                        vm = StateCodec.decodeVm(r.bodyBytes());
                    }
                    case VCPU_STATE -> {
                        VcpuState v = StateCodec.decodeVcpu(r.bodyBytes());
                        if (v.id() != vcpus.size()) throw r.corrupt(r.where() + ": vCPU id " + v.id() + " where id " + vcpus.size() + " was due (duplicate or out of order)");
                        if (v.id() >= h.vcpus()) throw r.corrupt(r.where() + ": vCPU id " + v.id() + " but the HEADER says " + h.vcpus() + " vCPUs");
                        vcpus.add(v);
                    }
                    case SERIAL_STATE -> {
                        if (serial != null) throw r.corrupt("duplicate " + r.where());
                        serial = StateCodec.decodeSerial(r.bodyBytes());
                    }
                    case VIRTIO_MMIO_STATE -> {
                        if (deviceDue) throw r.corrupt(r.where() + ": slot " + (transports.size() - 1) + " has no device record");
                        StateCodec.Slotted<VirtioMmioState> s = StateCodec.decodeTransport(r.bodyBytes());
                        if (s.slot() != transports.size()) throw r.corrupt(r.where() + ": slot " + s.slot() + " where slot " + transports.size() + " was due");
                        transports.add(s.state());
                        deviceDue = true;
                    }
                    case VIRTIO_BLK_STATE -> {
                        StateCodec.Slotted<VirtioBlkState> s = StateCodec.decodeBlk(r.bodyBytes());
                        if (!deviceDue || s.slot() != transports.size() - 1) throw r.corrupt(r.where() + ": slot " + s.slot() + " does not follow its transport");
                        if (!nets.isEmpty()) throw r.corrupt(r.where() + ": disk after a NIC (disks take the first slots)");
                        disks.add(s.state());
                        deviceDue = false;
                    }
                    case VIRTIO_NET_STATE -> {
                        StateCodec.Slotted<VirtioNetState> s = StateCodec.decodeNet(r.bodyBytes());
                        if (!deviceDue || s.slot() != transports.size() - 1) throw r.corrupt(r.where() + ": slot " + s.slot() + " does not follow its transport");
                        nets.add(s.state());
                        deviceDue = false;
                    }
                    case PAGE_DATA, ZERO_PAGES, END -> {
                        String before = " before the first memory record (" + r.where() + ")";
                        if (config == null) throw r.corrupt("missing CONFIG" + before);
                        if (vm == null) throw r.corrupt("missing VM_STATE" + before);
                        if (vcpus.size() != h.vcpus()) throw r.corrupt("missing VCPU_STATE: " + vcpus.size() + " of " + h.vcpus() + before);
                        if (serial == null) throw r.corrupt("missing SERIAL_STATE" + before);
                        if (deviceDue) throw r.corrupt("missing device record of virtio slot " + (transports.size() - 1) + before);
                        VmSnapshotState st = new VmSnapshotState(vm, vcpus, new DeviceStates(serial, transports, disks, nets));
                        st.validate(h.vcpus());
                        int idx = r.index();
                        r.seek(off, idx);
                        return new SnapshotFile(path, r, h, config, st, off, idx);
                    }
                }
            }
        } catch (SnapshotException | RuntimeException e) {
            try {
                r.close();
            } catch (IOException ignored) {
                // reporting the parse error
            }
            throw e;
        }
    }

    private static SnapshotHeader header(RecordReader r) throws SnapshotException {
        RecordType t = r.next();
        if (t != RecordType.HEADER) throw r.corrupt("the first record is " + r.where() + ", want HEADER");
        try {
            return SnapshotHeader.decode(r.bodyBytes());
        } catch (SnapshotException e) {
            throw new SnapshotException(e.kind(), r.name() + ": " + e.getMessage());
        }
    }

    private static FileChannel channel(Path path) throws SnapshotException {
        try {
            return FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new SnapshotException(SnapshotException.Kind.IO, "cannot open snapshot " + path + ": " + e, e);
        }
    }

    public Path path() {
        return path;
    }

    public SnapshotHeader header() {
        return header;
    }

    /** The VM config the snapshot was taken with, as TOML. */
    public String configToml() {
        return configToml;
    }

    public VmSnapshotState state() {
        return state;
    }

    /** Bytes of memory records (for progress). */
    public long memoryBytes() {
        try {
            return reader == null ? 0 : Math.max(0, java.nio.file.Files.size(path) - memoryOffset);
        } catch (IOException e) {
            return 0;
        }
    }

    /**
     * Streams the memory records into {@code memory}, checking each (CRC, range, run lengths,
     * no page twice) before copying it, then END's totals and the end of file. A FULL snapshot
     * must cover every page. {@code fresh}: the RAM is known to be all zero, so ZERO_PAGES runs
     * need no stores (a 1 GiB guest that used 100 MiB costs 100 MiB, not 1 GiB).
     *
     * @param base     bytes already reported to {@code progress} by earlier files of a chain
     * @throws SnapshotException at the first bad record; the memory is then partly written and
     *                           the VM must be discarded
     */
    public long loadMemory(GuestMemory memory, boolean fresh, SnapshotProgress progress, long base, long total) throws SnapshotException {
        RecordReader r = reader;
        r.seek(memoryOffset, memoryIndex);
        List<MemoryRegion> regions = memory.regions();
        long[][] seen = new long[regions.size()][];
        for (int i = 0; i < seen.length; i++) seen[i] = new long[(int) ((regions.get(i).pages() + 63) / 64)];
        long data = 0;
        long zero = 0;
        while (true) {
            RecordType t = r.next();
            ByteBuffer b = r.body();
            switch (t) {
                case PAGE_DATA -> {
                    if (b.remaining() < 16) throw r.corrupt(r.where() + ": " + b.remaining() + " bytes, shorter than its 16-byte prefix");
                    long gpa = b.getLong(0);
                    int count = b.getInt(8);
                    int reserved = b.getInt(12);
                    if (reserved != 0 || count < 1 || count > 256 || b.remaining() != 16 + count * SnapshotHeader.PAGE_SIZE) {
                        throw r.corrupt(r.where() + ": " + count + " pages in a " + b.remaining() + "-byte body (reserved 0x" + Integer.toHexString(reserved) + ")");
                    }
                    int ri = mark(r, regions, seen, gpa, count);
                    MemoryRegion reg = regions.get(ri);
                    MemorySegment src = MemorySegment.ofBuffer(b).asSlice(16, (long) count * SnapshotHeader.PAGE_SIZE);
                    MemorySegment.copy(src, 0, reg.host(), gpa - reg.guestAddress(), src.byteSize());
                    data += count;
                }
                case ZERO_PAGES -> {
                    if (b.remaining() < 8) throw r.corrupt(r.where() + ": shorter than its 8-byte prefix");
                    int runs = b.getInt(0);
                    if (runs < 1 || b.getInt(4) != 0 || b.remaining() != 8 + 16L * runs) {
                        throw r.corrupt(r.where() + ": " + Integer.toUnsignedString(runs) + " runs in a " + b.remaining() + "-byte body");
                    }
                    for (int i = 0; i < runs; i++) {
                        long gpa = b.getLong(8 + 16 * i);
                        long count = b.getLong(16 + 16 * i);
                        if (count < 1 || count > (1L << 28)) throw r.corrupt(r.where() + ": run " + i + " of " + count + " pages");
                        int ri = mark(r, regions, seen, gpa, count);
                        MemoryRegion reg = regions.get(ri);
                        if (!fresh) reg.host().asSlice(gpa - reg.guestAddress(), count * SnapshotHeader.PAGE_SIZE).fill((byte) 0);
                        zero += count;
                    }
                }
                case END -> {
                    if (b.remaining() != 16) throw r.corrupt(r.where() + ": " + b.remaining() + " bytes, want 16");
                    long wantData = b.getLong(0);
                    long wantZero = b.getLong(8);
                    if (wantData != data || wantZero != zero) {
                        throw r.corrupt(r.where() + ": END counts " + wantData + " data + " + wantZero + " zero pages, the file held "
                                + data + " + " + zero);
                    }
                    if (header.kind() == SnapshotHeader.Kind.FULL && data + zero != memory.size() / SnapshotHeader.PAGE_SIZE) {
                        throw r.corrupt("FULL snapshot covers " + (data + zero) + " of " + memory.size() / SnapshotHeader.PAGE_SIZE + " pages");
                    }
                    r.expectEof();
                    progress.update(base + (r.offset() - memoryOffset), total);
                    return data + zero;
                }
                default -> throw r.corrupt(r.where() + ": state record among the memory records");
            }
            progress.update(base + (r.offset() - memoryOffset), total);
        }
    }

    /** Checks that [gpa, +count pages) lies in one region and was not seen before; marks it. */
    private static int mark(RecordReader r, List<MemoryRegion> regions, long[][] seen, long gpa, long count) throws SnapshotException {
        if ((gpa & (SnapshotHeader.PAGE_SIZE - 1)) != 0) throw r.corrupt(r.where() + ": address 0x" + Long.toHexString(gpa) + " is not page-aligned");
        for (int i = 0; i < regions.size(); i++) {
            MemoryRegion reg = regions.get(i);
            long off = gpa - reg.guestAddress();
            if (off >= 0 && off < reg.size()) {
                long first = off / SnapshotHeader.PAGE_SIZE;
                if (count > reg.pages() - first) break;
                long[] bits = seen[i];
                for (long p = first; p < first + count; p++) {
                    long bit = 1L << (p & 63);
                    if ((bits[(int) (p >>> 6)] & bit) != 0) throw r.corrupt(r.where() + ": page 0x" + Long.toHexString(reg.guestAddress() + p * SnapshotHeader.PAGE_SIZE) + " appears twice");
                    bits[(int) (p >>> 6)] |= bit;
                }
                return i;
            }
        }
        throw r.corrupt(r.where() + ": pages [0x" + Long.toHexString(gpa) + ", +" + count + ") are outside guest RAM");
    }

    @Override
    public void close() {
        try {
            reader.close();
        } catch (IOException ignored) {
            // read-only file
        }
    }
}
