package io.jremus.it;

import io.jremus.cli.testbed.GuestServer;
import io.jremus.cli.testbed.IncrClient;
import io.jremus.cli.testbed.NetTestbed;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue 4's exactness test: a client INCRs over one TCP connection while the guest is
 * snapshotted and left paused; the VMM is killed with -9 and the snapshot restored in a new
 * process on the same TAP. The same connection carries on with no reset, and the counter
 * continues exactly: every INCR the client saw acknowledged was counted once.
 */
class SnapshotTcpIT {
    @TempDir
    Path dir;

    @Test
    void shouldKeepTheClientConnectionAndCountEveryAcknowledgedIncrAcrossKill9AndRestore() throws Exception {
        TestGuest.requireKvm();
        String why = NetTestbed.unavailableReason();
        assumeTrue(why == null, "skipped: " + why);
        Path socket = dir.resolve("control.sock");
        Path snapshot = dir.resolve("vm.snap");
        try (NetTestbed bed = NetTestbed.create();
             GuestServer source = GuestServer.start(GuestServer.Vmm.JREMUS, bed, TestGuest.repoRoot(), TestGuest.elf(), dir,
                     "source", "work=redis", null, List.of("--control", socket.toString()))) {
            source.awaitConsole(l -> l.startsWith("redis: listening"), 60);
            // The client's socket is opened inside the client namespace; it stays there.
            try (IncrClient incr = IncrClient.connect(bed.clientNs(), NetTestbed.GUEST_IP, 6379, Duration.ofSeconds(5))) {
                for (int i = 1; i <= 200; i++) assertThat(incr.incr()).isEqualTo(i);

                // Snapshot while INCRs keep flowing from another thread, leave the source paused.
                incr.startPump(3);
                Thread.sleep(100);
                String out = jremus(60, "snapshot", "create", "--socket", socket.toString(), "--out", snapshot.toString(),
                        "--leave-paused");
                assertThat(out).contains("paused");
                source.kill9();

                Path serial = dir.resolve("restored.serial");
                Process restored = new ProcessBuilder("ip", "netns", "exec", bed.hostNs(),
                        TestGuest.repoRoot().resolve("jremus").toString(), "snapshot", "restore", snapshot.toString(),
                        "--serial", serial.toString())
                        .redirectErrorStream(true).redirectOutput(dir.resolve("restored.log").toFile()).start();
                try (GuestServer target = GuestServer.adopt(restored, serial, dir.resolve("restored.log"))) {
                    long before = incr.acked();
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                    while (incr.acked() < before + 200 && System.nanoTime() < deadline && incr.failure() == null) {
                        Thread.sleep(50);
                    }
                    incr.stopPump(Duration.ofSeconds(30));
                    assertThat(incr.failure()).as("client error; restored VMM log:\n" + target.vmmLog()).isNull();
                    assertThat(incr.acked()).isGreaterThanOrEqualTo(before + 200);
                    // Every reply was exactly one more than the previous (checked by IncrClient), so
                    // the server's counter equals the number of acknowledged INCRs.
                    assertThat(incr.get()).isEqualTo(incr.acked());
                }
            }
        }
    }

    private static String jremus(long timeoutSeconds, String... args) throws IOException, InterruptedException {
        List<String> cmd = new java.util.ArrayList<>(List.of(TestGuest.repoRoot().resolve("jremus").toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(timeoutSeconds, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }
}
