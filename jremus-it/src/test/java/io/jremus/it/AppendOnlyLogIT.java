package io.jremus.it;

import io.jremus.cli.testbed.NetTestbed;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Acknowledged writes survive a crash: the guest logs every write to its virtio-blk disk and
 * flushes before replying; virtio-blk acknowledges a flush only after fdatasync on the host.
 */
class AppendOnlyLogIT {
    @TempDir
    Path dir;

    @Test
    void shouldKeepEveryAcknowledgedIncrAcrossKill9AndReboot() throws Exception {
        TestGuest.requireKvm();
        String why = NetTestbed.unavailableReason();
        assumeTrue(why == null, "skipped: " + why);
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/redis-cli")), "skipped: redis-tools is not installed");
        Path disk = dir.resolve("aof.img");
        try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
            f.setLength(64L << 20);
        }
        try (NetTestbed bed = NetTestbed.create()) {
            try (var first = VmProcess.start(bed, dir, "aof1", "work=redis", disk)) {
                first.awaitConsole(l -> l.startsWith("redis: listening"), 60);
                NetTestbed.Result r = bed.inClient(300, "redis-cli", "-h", NetTestbed.GUEST_IP, "-r", "1000", "INCR", "counter");
                assertThat(r.status()).as(r.output()).isZero();
                assertThat(r.output().strip().lines().toList()).hasSize(1000).last().isEqualTo("1000");
                first.kill9();
                assertThat(first.isAlive()).isFalse();
            }
            try (var second = VmProcess.start(bed, dir, "aof2", "work=redis", disk)) {
                second.awaitConsole(l -> l.startsWith("redis: listening"), 120);
                NetTestbed.Result r = bed.inClient(30, "redis-cli", "-h", NetTestbed.GUEST_IP, "GET", "counter");
                assertThat(r.output().strip()).as(second.console()).isEqualTo("1000");
            }
        }
    }
}
