package io.jremus.it;

import io.jremus.vmm.Vm;
import io.jremus.vmm.console.ConsoleLines;
import io.jremus.vmm.memory.DirtyPages;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Invariant 4 on a real guest: a harvest holds exactly the pages the guest's vCPUs wrote
 * (KVM's log) plus the pages the VMM wrote (its own bitmap), and nothing else outside the
 * guest kernel's own working set.
 */
class DirtyHarvestIT {
    private static final long MIB = 1 << 20;
    private static final long PAGE = 4096;
    private static final Pattern FREE = Pattern.compile("free=0x([0-9a-f]+)");

    @BeforeAll
    static void kvm() {
        TestGuest.requireKvm();
    }

    @Test
    void shouldHarvestExactlyThePagesTheGuestAndTheVmmWrote() throws Exception {
        int pages = 200;
        int stride = 3;
        long start = 16 * MIB;
        ConsoleLines console = new ConsoleLines();
        try (Vm vm = TestGuest.vm(64, 1, "work=touch start=16 pages=" + pages + " stride=" + stride + " exit=stay", console)) {
            vm.start();
            assertThat(console.await(l -> l.startsWith("touch: done"), 60, TimeUnit.SECONDS)).as(console.transcript()).isNotNull();
            long guestImageEnd = guestImageEnd(console);
            vm.pause();

            // 1. Everything since boot: within the touch span, exactly the touched pages; all other
            //    dirty pages belong to the guest kernel's image and working set below its free boundary.
            TreeSet<Long> touched = new TreeSet<>();
            for (int i = 0; i < pages; i++) touched.add(start + (long) i * stride * PAGE);
            List<Long> first = pages(vm.harvestDirtyPages());
            long spanEnd = start + (long) pages * stride * PAGE;
            assertThat(first.stream().filter(p -> p >= start && p < spanEnd).toList()).containsExactlyElementsOf(touched);
            assertThat(first.stream().filter(p -> !touched.contains(p)).filter(p -> p >= guestImageEnd).toList())
                    .as("dirty pages outside the guest's image that nobody wrote").isEmpty();

            // 2. With the vCPUs paused, the harvest is exactly what the VMM writes now.
            long a = 40 * MIB;
            long b = 40 * MIB + 5 * PAGE + 100;
            vm.memory().putLong(a, 0x1234);
            vm.memory().write(b, new byte[]{1, 2, 3});
            assertThat(pages(vm.harvestDirtyPages())).containsExactly(a, b & ~(PAGE - 1));
            assertThat(vm.harvestDirtyPages().count()).isZero();

            // 3. After running idle, the touched pages are not dirty again (each was written once).
            vm.resume();
            Thread.sleep(200);
            vm.pause();
            List<Long> later = pages(vm.harvestDirtyPages());
            assertThat(later).noneMatch(touched::contains);
            assertThat(later).allMatch(p -> p < guestImageEnd);
            vm.resume();
        }
    }

    private static long guestImageEnd(ConsoleLines console) {
        for (String l : console.texts()) {
            Matcher m = FREE.matcher(l);
            if (m.find()) return Long.parseLong(m.group(1), 16);
        }
        throw new AssertionError("guest did not report its free boundary:\n" + console.transcript());
    }

    private static List<Long> pages(DirtyPages d) {
        List<Long> out = new ArrayList<>();
        d.forEachPage(out::add);
        return out;
    }
}
