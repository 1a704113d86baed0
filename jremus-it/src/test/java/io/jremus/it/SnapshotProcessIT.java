package io.jremus.it;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole-system path, in separate processes: {@code jremus run --control} boots the
 * guest, {@code jremus snapshot create --leave-paused} snapshots it, the source VMM is killed
 * with SIGKILL, and {@code jremus snapshot restore} in a new process finishes the work exactly.
 */
class SnapshotProcessIT {
    @TempDir
    Path dir;

    @BeforeAll
    static void kvm() {
        TestGuest.requireKvm();
    }

    private static ProcessBuilder jremus(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(TestGuest.repoRoot().resolve("jremus").toString());
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd);
    }

    @Test
    void shouldFinishTheGuestsWorkInANewProcessAfterTheSourceVmmWasKilled() throws Exception {
        long iters = 3_000_000_000L;
        String expected = String.format("result=0x%016x", TestGuest.xorshift(iters));
        Path socket = dir.resolve("control.sock");
        Path sourceLog = dir.resolve("source-serial.log");
        Path snap = dir.resolve("vm.snap");
        Process source = jremus("run", "--kernel", TestGuest.elf().toString(), "--memory", "64M", "--vcpus", "2",
                "--cmdline", "work=cpu iters=" + iters, "--serial", sourceLog.toString(), "--control", socket.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("source.out").toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!(Files.exists(sourceLog) && Files.readString(sourceLog).contains("cpu: progress"))) {
                assertThat(source.isAlive()).as("source VMM died: " + Files.readString(dir.resolve("source.out"))).isTrue();
                assertThat(System.nanoTime()).as("guest never made progress").isLessThan(deadline);
                Thread.sleep(100);
            }
            Process create = jremus("snapshot", "create", "--socket", socket.toString(), "--out", snap.toString(), "--leave-paused")
                    .redirectErrorStream(true).start();
            String createOut = new String(create.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(create.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(create.exitValue()).as(createOut).isZero();
            assertThat(createOut).contains("FULL snapshot #0").contains("left paused").contains("100%");
        } finally {
            // SIGKILL by PID: the source gets no chance to clean up, as in a host crash.
            new ProcessBuilder("kill", "-9", Long.toString(source.pid())).start().waitFor();
            source.waitFor(30, TimeUnit.SECONDS);
        }
        String sourceSerial = Files.readString(sourceLog);
        assertThat(sourceSerial).as("the source did not finish before it was killed").doesNotContain("result=");

        Process restore = jremus("snapshot", "restore", snap.toString(), "--serial", "stdout", "--timeout", "600")
                .redirectErrorStream(true).start();
        String out = new String(restore.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(restore.waitFor(600, TimeUnit.SECONDS)).isTrue();
        assertThat(restore.exitValue()).as(out).isZero();
        assertThat(out).contains("restore: 100%").doesNotContain("jremus-guest: ready");
        assertThat(out).containsPattern("cpu: iters=" + iters + " " + expected);
        assertThat(out).containsPattern("cpu: cpu1 iters=" + iters + " " + expected);
    }
}
