package io.jremus.it;

import io.jremus.vmm.Vm;
import io.jremus.vmm.console.ConsoleLines;
import io.jremus.vmm.vcpu.StopReason;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The test guest under our VMM: boot, SMP, power-off status, and the product command path. */
class TestGuestBootIT {
    @BeforeAll
    static void kvm() {
        TestGuest.requireKvm();
    }

    @Test
    void shouldBootToReadyMarkerAndPowerOffWithStatusZero() throws Exception {
        ConsoleLines console = new ConsoleLines();
        try (Vm vm = TestGuest.vm(64, 1, "work=cpu iters=1000", console)) {
            vm.start();
            StopReason r = vm.awaitStop(60, TimeUnit.SECONDS);
            assertThat(console.texts()).as(console.transcript()).contains(TestGuest.READY, "jremus-guest: done");
            assertThat(r.kind()).isEqualTo(StopReason.Kind.POWER_OFF);
            assertThat(r.code()).isZero();
        }
    }

    @Test
    void shouldReportTheMemoryMapWeGaveTheGuest() throws Exception {
        ConsoleLines console = new ConsoleLines();
        try (Vm vm = TestGuest.vm(128, 1, "work=cpu iters=1", console)) {
            vm.start();
            vm.awaitStop(60, TimeUnit.SECONDS);
        }
        assertThat(console.texts()).contains(
                "jremus-guest: memmap 0x000000000000-0x00000009fc00 type=1",
                "jremus-guest: memmap 0x00000009fc00-0x000000100000 type=2",
                "jremus-guest: memmap 0x000000100000-0x000008000000 type=1");
    }

    @Test
    void shouldRunBothVcpus() throws Exception {
        long iters = 20_000_000;
        String expected = String.format("result=0x%016x", TestGuest.xorshift(iters));
        ConsoleLines console = new ConsoleLines();
        try (Vm vm = TestGuest.vm(64, 2, "work=cpu iters=" + iters, console)) {
            vm.start();
            StopReason r = vm.awaitStop(120, TimeUnit.SECONDS);
            assertThat(r.code()).as(console.transcript()).isZero();
        }
        List<String> lines = console.texts();
        assertThat(lines).contains("smp: 2 cpus online");
        assertThat(lines).anyMatch(l -> l.startsWith("cpu: iters=" + iters) && l.contains(expected));
        assertThat(lines).anyMatch(l -> l.startsWith("cpu: cpu1 iters=" + iters) && l.contains(expected));
    }

    @Test
    void shouldExitTheRunCommandWithTheGuestStatus() throws Exception {
        Process p = new ProcessBuilder(TestGuest.repoRoot().resolve("jremus").toString(), "run",
                "--kernel", TestGuest.elf().toString(), "--memory", "64M", "--cmdline", "work=cpu iters=10")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains(TestGuest.READY, "jremus-guest: done");
    }

    @Test
    void shouldFailTheRunCommandWhenTheGuestRejectsItsCommandLine() throws Exception {
        Process p = new ProcessBuilder(TestGuest.repoRoot().resolve("jremus").toString(), "run",
                "--kernel", TestGuest.elf().toString(), "--memory", "64M", "--cmdline", "work=nonsense")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isNotZero();
    }

    @Test
    void shouldBootTheGuestAgainWhenItAsksForAReset() throws Exception {
        Process p = new ProcessBuilder(TestGuest.repoRoot().resolve("jremus").toString(), "run",
                "--kernel", TestGuest.elf().toString(), "--memory", "64M", "--cmdline", "work=cpu iters=1 cpus=1 exit=reboot",
                "--timeout", "10").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(out.split(TestGuest.READY, -1).length - 1).as(out).isGreaterThanOrEqualTo(2);
        assertThat(out).contains("guest requested a reset; booting it again");
    }

    @Test
    void shouldExitOnResetWithNoReboot() throws Exception {
        Process p = new ProcessBuilder(TestGuest.repoRoot().resolve("jremus").toString(), "run", "--no-reboot",
                "--kernel", TestGuest.elf().toString(), "--memory", "64M", "--cmdline", "work=cpu iters=1 cpus=1 exit=reboot")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out.split(TestGuest.READY, -1).length - 1).isEqualTo(1);
        assertThat(out).contains("guest requested a reset");
    }
}
