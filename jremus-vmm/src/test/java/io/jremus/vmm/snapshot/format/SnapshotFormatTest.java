package io.jremus.vmm.snapshot.format;

import io.jremus.sys.kvm.KvmConstants;
import io.jremus.vmm.config.SerialConfig;
import io.jremus.vmm.config.VmConfig;
import io.jremus.vmm.devices.serial.SerialState;
import io.jremus.vmm.memory.DirtyPages;
import io.jremus.vmm.memory.GuestMemory;
import io.jremus.vmm.snapshot.DeviceStates;
import io.jremus.vmm.snapshot.SnapshotException;
import io.jremus.vmm.snapshot.VcpuState;
import io.jremus.vmm.snapshot.VmSnapshotState;
import io.jremus.vmm.snapshot.VmState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import static io.jremus.sys.kvm.KvmStructs.*;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The file format without KVM: round trips, chains, and refusal of every kind of bad file. */
class SnapshotFormatTest {
    private static final long MEM = 16L << 20;
    private static final long PAGES = MEM / 4096;

    @TempDir
    Path dir;

    private final Arena arena = Arena.ofShared();

    static VmConfig config(long mem, int vcpus) {
        return new VmConfig("t", mem, vcpus, Path.of("/nonexistent/kernel"), Optional.empty(), "", new SerialConfig.None(), List.of(), List.of());
    }

    static VcpuState vcpu(int id, long rip) {
        byte[] regs = new byte[(int) KVM_REGS_SIZE];
        ByteBuffer.wrap(regs).order(ByteOrder.LITTLE_ENDIAN).putLong((int) REGS_RIP, rip);
        byte[] lapic = new byte[(int) KVM_LAPIC_STATE_SIZE];
        ByteBuffer.wrap(lapic).order(ByteOrder.LITTLE_ENDIAN).putInt(0x20, id << 24);
        byte[] cpuid = new byte[(int) (KVM_CPUID2_HEADER_SIZE + 2 * KVM_CPUID_ENTRY2_SIZE)];
        cpuid[0] = 2;
        return new VcpuState(id, KvmConstants.KVM_MP_STATE_RUNNABLE, regs, new byte[(int) KVM_SREGS_SIZE], new byte[0],
                new byte[(int) KVM_XSAVE_SIZE], new byte[(int) KVM_XCRS_SIZE], new byte[(int) KVM_DEBUGREGS_SIZE], lapic,
                new byte[(int) KVM_VCPU_EVENTS_SIZE], cpuid, new int[]{0x10, 0xC0000080, 0x6E0}, new long[]{123, 0xD01, 456});
    }

    static VmSnapshotState state(int vcpus, long rip) {
        byte[][] chips = new byte[3][(int) KVM_IRQCHIP_SIZE];
        for (int i = 0; i < 3; i++) chips[i][0] = (byte) i;
        List<VcpuState> vs = new ArrayList<>();
        for (int i = 0; i < vcpus; i++) vs.add(vcpu(i, rip + i));
        return new VmSnapshotState(new VmState(chips[0], chips[1], chips[2], new byte[(int) KVM_PIT_STATE2_SIZE], new byte[(int) KVM_CLOCK_DATA_SIZE]),
                vs, new DeviceStates(new SerialState(1, 0, 0, 3, 0, 0, 0, false, false, new byte[]{'x'}), List.of(), List.of(), List.of()));
    }

    GuestMemory memory() {
        return GuestMemory.of(arena.allocate(MEM, 4096));
    }

    static void fill(GuestMemory m, long seed, int pages) {
        Random r = new Random(seed);
        for (int i = 0; i < pages; i++) m.regions().getFirst().host().set(JAVA_LONG, (long) r.nextInt((int) PAGES) * 4096 + 8, r.nextLong());
    }

    static boolean sameMemory(GuestMemory a, GuestMemory b) {
        return a.regions().getFirst().host().mismatch(b.regions().getFirst().host()) == -1;
    }

    Path full(GuestMemory m, VmSnapshotState s) throws Exception {
        Path p = dir.resolve("snap-000.base");
        SnapshotWriter.write(p, config(MEM, s.vcpus().size()), s, m, null, null, (d, t) -> { });
        return p;
    }

    @Test
    void shouldRoundTripStateAndMemoryThroughAFullSnapshot() throws Exception {
        GuestMemory src = memory();
        fill(src, 1, 500);
        VmSnapshotState s = state(2, 0x1000);
        Path p = full(src, s);
        GuestMemory dst = memory();
        try (SnapshotChain c = SnapshotChain.open(p)) {
            c.checkFits(config(MEM, 2));
            assertThat(c.state()).isEqualTo(s);
            c.loadInto(dst);
        }
        assertThat(sameMemory(src, dst)).isTrue();
        assertThat(Files.size(p)).as("zero pages are markers, not data").isLessThan(600 * 4096L);
    }

    @Test
    void shouldRestoreTheLatestStateAndMemoryFromABaseAndItsDiffs() throws Exception {
        GuestMemory src = memory();
        fill(src, 1, 300);
        SnapshotWriter.Result prev = SnapshotWriter.write(dir.resolve("snap-000.base"), config(MEM, 1), state(1, 1), src, null, null, (d, t) -> { });
        Random r = new Random(7);
        for (int n = 1; n <= 5; n++) {
            long[] bits = new long[(int) (PAGES / 64)];
            for (int i = 0; i < 50; i++) {
                int page = r.nextInt((int) PAGES);
                // some dirtied pages become zero again: the diff must carry that too
                src.regions().getFirst().host().asSlice(page * 4096L, 4096).fill(i % 5 == 0 ? 0 : (byte) (n + i));
                bits[page >>> 6] |= 1L << (page & 63);
            }
            prev = SnapshotWriter.write(dir.resolve(String.format("snap-%03d.diff", n)), config(MEM, 1), state(1, n), src,
                    DirtyPages.of(src.regions(), new long[][]{bits}), prev.header(), (d, t) -> { });
        }
        GuestMemory dst = memory();
        fill(dst, 99, 10); // not fresh: zero runs must be written
        try (SnapshotChain c = SnapshotChain.open(dir.resolve("snap-005.diff"))) {
            assertThat(c.files()).hasSize(6);
            assertThat(c.state().vcpus().getFirst().rip()).isEqualTo(5);
            c.loadInto(dst);
        }
        // dst was dirtied before loading: only pages the chain covers are guaranteed; compare those that the base covered (all)
        assertThat(sameMemory(src, dst)).isFalse(); // the 10 junk pages on a "fresh" base load stay: base assumed zero RAM
        GuestMemory clean = memory();
        try (SnapshotChain c = SnapshotChain.open(dir.resolve("snap-005.diff"))) {
            c.loadInto(clean);
        }
        assertThat(sameMemory(src, clean)).isTrue();
    }

    @Test
    void shouldRefuseAFlippedByteInAStateRecordNamingTheRecord() throws Exception {
        Path p = full(memory(), state(2, 0x1000));
        byte[] b = Files.readAllBytes(p);
        int off = indexOfRecord(b, RecordType.VCPU_STATE.code(), 1);
        b[off + 16 + 40] ^= 0x01;
        Files.write(p, b);
        assertThatThrownBy(() -> SnapshotChain.open(p)).isInstanceOf(SnapshotException.class)
                .hasMessageContaining("VCPU_STATE #4").hasMessageContaining("CRC32C")
                .extracting(e -> ((SnapshotException) e).kind()).isEqualTo(SnapshotException.Kind.CORRUPT);
    }

    @Test
    void shouldRefuseAFlippedByteInPageDataWhileLoading() throws Exception {
        GuestMemory src = memory();
        fill(src, 3, 100);
        Path p = full(src, state(1, 0));
        byte[] b = Files.readAllBytes(p);
        int off = indexOfRecord(b, RecordType.PAGE_DATA.code(), 3); // not the first: open() reads that one
        b[off + 16 + 16 + 100] ^= 0x40;
        Files.write(p, b);
        try (SnapshotChain c = SnapshotChain.open(p)) { // headers and state are fine
            assertThatThrownBy(() -> c.loadInto(memory())).hasMessageContaining("PAGE_DATA").hasMessageContaining("CRC32C");
        }
    }

    @Test
    void shouldRefuseATruncatedFile() throws Exception {
        Path p = full(memory(), state(1, 0));
        byte[] b = Files.readAllBytes(p);
        for (int cut : new int[]{10, 20, 200, b.length - 8}) {
            Files.write(p, java.util.Arrays.copyOf(b, cut));
            assertThatThrownBy(() -> {
                try (SnapshotChain c = SnapshotChain.open(p)) {
                    c.loadInto(memory());
                }
            }).as("cut at " + cut).isInstanceOf(SnapshotException.class).hasMessageContaining("truncated");
        }
    }

    @Test
    void shouldRefuseAWrongVersionAndAWrongMagic() throws Exception {
        Path p = full(memory(), state(1, 0));
        byte[] b = Files.readAllBytes(p);
        byte[] v = b.clone();
        v[8] = 2;
        Files.write(p, v);
        assertThatThrownBy(() -> SnapshotChain.open(p)).hasMessageContaining("version 2 is not supported")
                .extracting(e -> ((SnapshotException) e).kind()).isEqualTo(SnapshotException.Kind.MISMATCH);
        byte[] m = b.clone();
        m[0] = 'X';
        Files.write(p, m);
        assertThatThrownBy(() -> SnapshotChain.open(p)).hasMessageContaining("bad magic");
    }

    @Test
    void shouldRefuseAConfigWhoseMemoryOrVcpusDoNotMatch() throws Exception {
        Path p = full(memory(), state(1, 0));
        try (SnapshotChain c = SnapshotChain.open(p)) {
            assertThatThrownBy(() -> c.checkFits(config(32L << 20, 1))).hasMessageContaining("16 MiB").hasMessageContaining("32 MiB");
            assertThatThrownBy(() -> c.checkFits(config(MEM, 2))).hasMessageContaining("1 vCPUs");
        }
    }

    @Test
    void shouldRefuseDuplicateAndMissingRecords() throws Exception {
        VmSnapshotState s = state(1, 0);
        SnapshotHeader h = new SnapshotHeader(4096, SnapshotHeader.Kind.FULL, 0, 1, MEM, new byte[16], new byte[16], new byte[32], 0,
                List.of(new SnapshotHeader.Region(0, MEM)));
        h = new SnapshotHeader(4096, SnapshotHeader.Kind.FULL, 0, 1, MEM, new byte[]{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, new byte[16], new byte[32], 0, h.regions());
        Path dup = dir.resolve("dup");
        try (var ch = java.nio.channels.FileChannel.open(dup, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
            RecordWriter w = new RecordWriter(ch);
            w.record(RecordType.HEADER, h.encode());
            w.record(RecordType.CONFIG, new byte[0]);
            w.record(RecordType.VM_STATE, StateCodec.encodeVm(s.vm()));
            w.record(RecordType.VM_STATE, StateCodec.encodeVm(s.vm()));
            w.close();
        }
        assertThatThrownBy(() -> SnapshotChain.open(dup)).hasMessageContaining("duplicate VM_STATE");
        Path missing = dir.resolve("missing");
        try (var ch = java.nio.channels.FileChannel.open(missing, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
            RecordWriter w = new RecordWriter(ch);
            w.record(RecordType.HEADER, h.encode());
            w.record(RecordType.CONFIG, new byte[0]);
            w.record(RecordType.VM_STATE, StateCodec.encodeVm(s.vm()));
            w.record(RecordType.END, new byte[16]);
            w.close();
        }
        assertThatThrownBy(() -> SnapshotChain.open(missing)).hasMessageContaining("missing VCPU_STATE");
    }

    @Test
    void shouldRefuseAStateRecordWithALengthOutOfRange() throws Exception {
        Path p = full(memory(), state(1, 0));
        byte[] b = Files.readAllBytes(p);
        int off = indexOfRecord(b, RecordType.VCPU_STATE.code(), 0);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(off + 4, 0x7fff_fff0);
        Files.write(p, b);
        assertThatThrownBy(() -> SnapshotChain.open(p)).hasMessageContaining("VCPU_STATE #3").hasMessageContaining("exceeds");
    }

    @Test
    void shouldRefuseADiffWhoseParentIsMissing() throws Exception {
        GuestMemory src = memory();
        SnapshotWriter.Result base = SnapshotWriter.write(dir.resolve("a.base"), config(MEM, 1), state(1, 0), src, null, null, (d, t) -> { });
        SnapshotWriter.write(dir.resolve("a.diff"), config(MEM, 1), state(1, 0), src, DirtyPages.of(src.regions(), new long[][]{new long[(int) (PAGES / 64)]}),
                base.header(), (d, t) -> { });
        Files.delete(dir.resolve("a.base"));
        assertThatThrownBy(() -> SnapshotChain.open(dir.resolve("a.diff"))).hasMessageContaining("parent snapshot");
    }

    /** Offset of the {@code nth} record of type {@code code} (walking the framing). */
    static int indexOfRecord(byte[] b, int code, int nth) {
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int off = 16;
        while (off + 16 <= b.length) {
            int t = bb.getInt(off);
            int len = bb.getInt(off + 4);
            if (t == code && nth-- == 0) return off;
            off += 16 + ((len + 7) & ~7);
        }
        throw new AssertionError("no record " + code);
    }
}
