package io.jremus.it;

import io.jremus.cli.testbed.GuestServer;
import io.jremus.cli.testbed.NetTestbed;
import io.jremus.vmm.net.NetNs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
            Socket client = NetNs.runIn(bed.clientNs(), () -> {
                Socket s = new Socket();
                s.connect(new InetSocketAddress(NetTestbed.GUEST_IP, 6379), 5000);
                return s;
            });
            try (client) {
                client.setSoTimeout(60_000);
                IncrClient incr = new IncrClient(client);
                for (int i = 1; i <= 200; i++) assertThat(incr.incr()).isEqualTo(i);

                // Snapshot while INCRs keep flowing from another thread, leave the source paused.
                Thread pump = Thread.ofPlatform().start(incr::pumpUntilStopped);
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
                    incr.stop();
                    pump.join(30_000);
                    assertThat(incr.failure()).as("client error; restored VMM log:\n" + target.vmmLog()).isNull();
                    assertThat(incr.acked()).isGreaterThanOrEqualTo(before + 200);
                    // Every reply was exactly one more than the previous (checked in IncrClient), so
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

    /** INCRs over one connection, checking that each reply is the previous one plus one. */
    static final class IncrClient {
        private final OutputStream out;
        private final BufferedReader in;
        private volatile long acked;
        private volatile boolean stop;
        private volatile Throwable failure;

        IncrClient(Socket s) throws IOException {
            this.out = s.getOutputStream();
            this.in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
        }

        synchronized long incr() throws IOException {
            out.write("*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String line = in.readLine();
            if (line == null) throw new IOException("connection closed by the server");
            if (!line.startsWith(":")) throw new IOException("unexpected reply " + line);
            long v = Long.parseLong(line.substring(1));
            if (v != acked + 1) throw new IOException("reply " + v + " after " + acked + ": an INCR was lost or counted twice");
            acked = v;
            return v;
        }

        synchronized long get() throws IOException {
            out.write("*2\r\n$3\r\nGET\r\n$7\r\ncounter\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String len = in.readLine();
            String value = in.readLine();
            if (len == null || value == null) throw new IOException("connection closed by the server");
            return Long.parseLong(value);
        }

        void pumpUntilStopped() {
            try {
                while (!stop) {
                    incr();
                    Thread.sleep(3);
                }
            } catch (Throwable t) {
                failure = t;
            }
        }

        void stop() {
            stop = true;
        }

        long acked() {
            return acked;
        }

        Throwable failure() {
            return failure;
        }
    }
}
