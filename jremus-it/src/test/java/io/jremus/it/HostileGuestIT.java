package io.jremus.it;

import io.jremus.cli.testbed.NetTestbed;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Invariant 6 against a hostile guest: the test guest hands its disk a malformed descriptor
 * chain; the VMM marks that device broken (DEVICE_NEEDS_RESET) and carries on, and the guest's
 * other device (its NIC) still serves clients.
 */
class HostileGuestIT {
    private static NetTestbed bed;
    @TempDir
    static Path dir;

    @BeforeAll
    static void testbed() throws Exception {
        TestGuest.requireKvm();
        String why = NetTestbed.unavailableReason();
        assumeTrue(why == null, "skipped: " + why);
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/redis-cli")), "skipped: redis-tools is not installed");
        bed = NetTestbed.create();
    }

    @AfterAll
    static void teardown() {
        if (bed != null) bed.close();
    }

    @ParameterizedTest(name = "virtio_bad={0} on the disk")
    @ValueSource(strings = {"loop", "next", "oob", "len"})
    void shouldMarkOnlyTheAbusedDeviceBrokenAndKeepServing(String mode) throws Exception {
        Path disk = dir.resolve("bad-" + mode + ".img");
        try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
            f.setLength(16L << 20);
        }
        try (var vm = VmProcess.start(bed, dir, "bad-" + mode,
                "work=redis virtio_bad=" + mode + " virtio_bad_dev=blk virtio_bad_ms=500", disk)) {
            vm.awaitConsole(l -> l.startsWith("virtio_bad: handed the blk device a bad descriptor chain"), 60);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!vm.vmmLog().contains("virtio0: device marked DEVICE_NEEDS_RESET") && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(vm.vmmLog()).as(vm.console()).contains("virtio0: device marked DEVICE_NEEDS_RESET");
            assertThat(vm.isAlive()).isTrue();
            NetTestbed.Result r = bed.inClient(30, "redis-cli", "-h", NetTestbed.GUEST_IP, "PING");
            assertThat(r.output().strip()).as(vm.console()).isEqualTo("PONG");
        }
    }
}
