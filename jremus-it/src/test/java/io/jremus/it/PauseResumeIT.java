package io.jremus.it;

import io.jremus.vmm.Vm;
import io.jremus.vmm.console.ConsoleLines;
import io.jremus.vmm.vcpu.StopReason;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Pausing a busy guest must be invisible to it: no lost or corrupted progress. */
class PauseResumeIT {
    @BeforeAll
    static void kvm() {
        TestGuest.requireKvm();
    }

    @Test
    void shouldNotLoseOrCorruptProgressAcross1000Pauses() throws Exception {
        long iters = 3_000_000_000L;
        String expected = String.format("result=0x%016x", TestGuest.xorshift(iters));
        ConsoleLines console = new ConsoleLines();
        int pauses = 0;
        try (Vm vm = TestGuest.vm(64, 2, "work=cpu iters=" + iters, console)) {
            vm.start();
            assertThat(console.await(l -> l.equals(TestGuest.READY), 60, TimeUnit.SECONDS)).as(console.transcript()).isNotNull();
            while (pauses < 1000 && !vm.machine().stopped().isDone()) {
                vm.pause();
                assertThat(vm.machine().isPaused()).isTrue();
                vm.resume();
                pauses++;
                Thread.sleep(0, 300_000);
            }
            StopReason r = vm.awaitStop(300, TimeUnit.SECONDS);
            assertThat(r.kind()).as(console.transcript()).isEqualTo(StopReason.Kind.POWER_OFF);
            assertThat(r.code()).isZero();
        }
        assertThat(pauses).as("the guest finished before 1000 pauses; give it more work").isEqualTo(1000);
        assertThat(console.texts()).anyMatch(l -> l.startsWith("cpu: iters=" + iters) && l.contains(expected));
        assertThat(console.texts()).anyMatch(l -> l.startsWith("cpu: cpu1 iters=" + iters) && l.contains(expected));
    }
}
