package io.jremus.it;

import io.jremus.vmm.Vm;
import io.jremus.vmm.config.VmConfig;
import io.jremus.vmm.console.ConsoleLines;
import io.jremus.vmm.memory.GuestMemory;
import io.jremus.vmm.memory.MemoryRegion;
import io.jremus.vmm.snapshot.SnapshotException;
import io.jremus.vmm.snapshot.SnapshotRestore;
import io.jremus.vmm.snapshot.SnapshotSession;
import io.jremus.vmm.snapshot.VcpuState;
import io.jremus.vmm.snapshot.VmSnapshotState;
import io.jremus.vmm.snapshot.format.SnapshotWriter;
import io.jremus.vmm.vcpu.StopReason;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Whole-VM snapshot and restore on the test guest: a restored guest carries on exactly where it
 * stopped, memory comes back bit for bit, a chain of diffs equals a full snapshot, and a bad
 * snapshot starts nothing.
 */
class SnapshotRestoreIT {
    private static final Pattern PROGRESS = Pattern.compile("cpu: progress iters=(\\d+)");

    @TempDir
    Path dir;

    @BeforeAll
    static void kvm() {
        TestGuest.requireKvm();
    }

    @Test
    void shouldFinishTheCpuWorkloadWithTheExactResultInANewVmRestoredFromAFile() throws Exception {
        long iters = 3_000_000_000L;
        String expected = String.format("result=0x%016x", TestGuest.xorshift(iters));
        VmConfig cfg = TestGuest.config(64, 2, "work=cpu iters=" + iters);
        Path file = dir.resolve("cpu.snap");
        ConsoleLines before = new ConsoleLines();
        String sourceHash;
        long progressAtSnapshot;
        try (Vm vm = Vm.create(cfg, new Vm.Options(before))) {
            vm.start();
            assertThat(before.await(l -> l.startsWith("cpu: progress"), 120, TimeUnit.SECONDS)).as(before.transcript()).isNotNull();
            vm.pause();
            progressAtSnapshot = lastProgress(before.texts());
            new SnapshotSession(vm).take(file, false, (d, t) -> { });
            sourceHash = hash(vm.memory(), vm.captureState());
        }
        ConsoleLines after = new ConsoleLines();
        try (Vm restored = SnapshotRestore.restore(file, cfg, null, new Vm.Options(after), (d, t) -> { })) {
            assertThat(hash(restored.memory(), restored.captureState())).as("restored RAM equals the paused source's").isEqualTo(sourceHash);
            restored.start();
            StopReason r = restored.awaitStop(600, TimeUnit.SECONDS);
            assertThat(r.kind()).as(after.transcript()).isEqualTo(StopReason.Kind.POWER_OFF);
            assertThat(r.code()).isZero();
        }
        List<String> out = after.texts();
        assertThat(out).as("the guest continues, it does not boot again").noneMatch(l -> l.startsWith("jremus-guest: ready"));
        List<Long> progress = out.stream().map(PROGRESS::matcher).filter(Matcher::find).map(m -> Long.parseLong(m.group(1))).toList();
        if (!progress.isEmpty()) assertThat(progress.getFirst()).as("progress continues from the snapshot").isGreaterThanOrEqualTo(progressAtSnapshot);
        assertThat(out).anyMatch(l -> l.startsWith("cpu: iters=" + iters) && l.contains(expected));
        assertThat(out).anyMatch(l -> l.startsWith("cpu: cpu1 iters=" + iters) && l.contains(expected));
    }

    @Test
    void shouldRestoreFromAChainOf20DiffsTheSameMemoryAndStateAsAFullSnapshotOfTheSameInstant() throws Exception {
        VmConfig cfg = TestGuest.config(128, 2, "work=mem rate=50 size=32");
        ConsoleLines console = new ConsoleLines();
        Path chainDir = Files.createDirectories(dir.resolve("chain"));
        Path fullFile = dir.resolve("full.snap");
        Path latest;
        String sourceHash;
        VmSnapshotState sourceState;
        try (Vm vm = Vm.create(cfg, new Vm.Options(console))) {
            vm.start();
            assertThat(console.await(l -> l.startsWith("mem: t="), 120, TimeUnit.SECONDS)).as(console.transcript()).isNotNull();
            SnapshotSession session = new SnapshotSession(vm);
            vm.pause();
            latest = chainDir.resolve("snap-000.base");
            session.take(latest, false, (d, t) -> { });
            long dirtied = 0;
            for (int i = 1; i <= 20; i++) {
                vm.resume();
                Thread.sleep(60);
                vm.pause();
                latest = chainDir.resolve(String.format("snap-%03d.diff", i));
                dirtied += session.take(latest, true, (d, t) -> { }).dataPages();
            }
            assertThat(dirtied).as("the guest churned memory between diffs").isGreaterThan(20);
            sourceState = vm.captureState();
            SnapshotWriter.write(fullFile, cfg, sourceState, vm.memory(), null, null, (d, t) -> { });
            sourceHash = hash(vm.memory(), sourceState);
            vm.stop("test done");
        }
        long fullSize = Files.size(fullFile);
        long diffSize = Files.size(chainDir.resolve("snap-010.diff"));
        assertThat(diffSize).as("a diff is much smaller than a full snapshot").isLessThan(fullSize / 2);
        try (Vm fromChain = SnapshotRestore.restore(latest, cfg, null, Vm.Options.defaults(), (d, t) -> { });
             Vm fromFull = SnapshotRestore.restore(fullFile, cfg, null, Vm.Options.defaults(), (d, t) -> { })) {
            assertThat(hash(fromChain.memory(), sourceState)).isEqualTo(sourceHash);
            assertThat(hash(fromFull.memory(), sourceState)).isEqualTo(sourceHash);
            VmSnapshotState a = fromChain.captureState();
            VmSnapshotState b = fromFull.captureState();
            for (int i = 0; i < 2; i++) {
                VcpuState s = sourceState.vcpus().get(i);
                assertThat(a.vcpus().get(i).regs()).isEqualTo(s.regs()).isEqualTo(b.vcpus().get(i).regs());
                assertThat(a.vcpus().get(i).sregs()).isEqualTo(s.sregs()).isEqualTo(b.vcpus().get(i).sregs());
                assertThat(a.vcpus().get(i).mpState()).isEqualTo(s.mpState());
            }
            assertThat(a.devices()).isEqualTo(b.devices());
        }
    }

    @Test
    void shouldRefuseCorruptOrMismatchedSnapshotsAndStartNothing() throws Exception {
        VmConfig cfg = TestGuest.config(64, 1, "work=idle");
        Path file = dir.resolve("idle.snap");
        ConsoleLines console = new ConsoleLines();
        try (Vm vm = Vm.create(cfg, new Vm.Options(console))) {
            vm.start();
            assertThat(console.await(l -> l.startsWith(TestGuest.READY), 60, TimeUnit.SECONDS)).isNotNull();
            vm.pause();
            new SnapshotSession(vm).take(file, false, (d, t) -> { });
            vm.stop("done");
        }
        byte[] good = Files.readAllBytes(file);
        long threadsBefore = vcpuThreads();

        byte[] flipped = good.clone();
        flipped[recordOffset(good, 0x0004) + 16 + 64] ^= 1; // inside VCPU_STATE
        assertRefused(cfg, flipped, "VCPU_STATE", "CRC32C");
        assertRefused(cfg, java.util.Arrays.copyOf(good, good.length / 2), "truncated");
        byte[] version = good.clone();
        version[8] = 9;
        assertRefused(cfg, version, "version 9");
        byte[] magic = good.clone();
        magic[1] = 'X';
        assertRefused(cfg, magic, "bad magic");
        Files.write(file, good);
        assertThatThrownBy(() -> SnapshotRestore.restore(file, TestGuest.config(128, 1, "work=idle"), null, Vm.Options.defaults(), (d, t) -> { }))
                .isInstanceOf(SnapshotException.class).hasMessageContaining("64 MiB").hasMessageContaining("128 MiB");
        byte[] page = good.clone();
        page[recordOffset(good, 0x0010, 5) + 16 + 16 + 7] ^= 1; // a later PAGE_DATA: found while loading memory
        assertRefused(cfg, page, "PAGE_DATA");
        assertThat(vcpuThreads()).as("no vCPU thread was started by a refused restore").isEqualTo(threadsBefore);
    }

    private void assertRefused(VmConfig cfg, byte[] bytes, String... words) throws Exception {
        Path p = dir.resolve("bad.snap");
        Files.write(p, bytes);
        var t = assertThatThrownBy(() -> SnapshotRestore.restore(p, cfg, null, Vm.Options.defaults(), (d, x) -> { }))
                .isInstanceOf(SnapshotException.class);
        for (String w : words) t.hasMessageContaining(w);
    }

    private static long vcpuThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("vcpu-") && t.isAlive()).count();
    }

    private static int recordOffset(byte[] b, int code) {
        return recordOffset(b, code, 0);
    }

    private static int recordOffset(byte[] b, int code, int nth) {
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int off = 16;
        while (off + 16 <= b.length) {
            int len = bb.getInt(off + 4);
            if (bb.getInt(off) == code && nth-- == 0) return off;
            off += 16 + ((len + 7) & ~7);
        }
        throw new AssertionError("record type " + code + " not found");
    }

    static long lastProgress(List<String> lines) {
        long last = 0;
        for (String l : lines) {
            Matcher m = PROGRESS.matcher(l);
            if (m.find()) last = Long.parseLong(m.group(1));
        }
        return last;
    }

    /**
     * SHA-256 of all guest RAM, region by region, with each vCPU's kvmclock area (the 32-byte
     * pvclock struct at MSR_KVM_SYSTEM_TIME_NEW) counted as zeros: KVM itself rewrites it
     * (version, flags) as soon as the saved clock and that MSR are set again, before the guest
     * runs, exactly as it would after any pause. Every other byte must be identical.
     */
    static String hash(GuestMemory m, VmSnapshotState state) throws Exception {
        java.lang.foreign.MemorySegment copy = java.lang.foreign.Arena.ofAuto().allocate(m.size(), 4096);
        long off = 0;
        for (MemoryRegion r : m.regions()) {
            java.lang.foreign.MemorySegment.copy(r.host(), 0, copy, off, r.size());
            off += r.size();
        }
        for (VcpuState v : state.vcpus()) {
            for (int i = 0; i < v.msrIndex().length; i++) {
                if (v.msrIndex()[i] == KVM_SYSTEM_TIME_NEW && (v.msrValue()[i] & 1) != 0) {
                    long gpa = v.msrValue()[i] & ~1L;
                    if (gpa + 32 <= m.regions().getFirst().size()) copy.asSlice(gpa, 32).fill((byte) 0);
                }
            }
        }
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        d.update(copy.asByteBuffer());
        return HexFormat.of().formatHex(d.digest());
    }

    private static final int KVM_SYSTEM_TIME_NEW = 0x4b564d01;
}
