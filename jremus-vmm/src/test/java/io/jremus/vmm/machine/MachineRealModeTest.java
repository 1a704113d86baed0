package io.jremus.vmm.machine;

import io.jremus.vmm.kvm.Kvm;
import io.jremus.vmm.memory.DirtyPages;
import io.jremus.vmm.memory.GuestRamAllocator;
import io.jremus.vmm.vcpu.ExitHandler;
import io.jremus.vmm.vcpu.StopReason;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.jremus.sys.kvm.KvmStructs.*;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The KVM core on a few bytes of real-mode code: exits reach the handler, the guest's stores
 * and the VMM's stores both show up in the dirty harvest, and nothing else does.
 */
class MachineRealModeTest {
    @BeforeAll
    static void needKvm() {
        assumeTrue(Kvm.available(), "skipped: /dev/kvm is absent or not accessible, so no VM can run here");
    }

    /** Records serial bytes; a write to port 0xf4 stops the machine with that status. */
    private static final class Recorder implements ExitHandler {
        final ByteArrayOutputStream serial = new ByteArrayOutputStream();
        Machine machine;

        @Override
        public long pioIn(int port, int size) {
            return 0xFF;
        }

        @Override
        public void pioOut(int port, int size, long value) {
            if (port == 0x3f8) serial.write((int) value);
            if (port == 0xf4) machine.requestStop(StopReason.powerOff((int) value));
        }

        @Override
        public long mmioRead(long address, int size) {
            return 0;
        }

        @Override
        public void mmioWrite(long address, int size, long value) {
        }
    }

    private static Machine realModeMachine(byte[] code) {
        Machine m = Machine.create(List.of(new GuestRamAllocator.Range(0, 1 << 20)), 1);
        m.memory().write(0x1000, code);
        try (Arena a = Arena.ofConfined()) {
            var vcpu = m.vcpus().getFirst();
            MemorySegment sregs = vcpu.getSregs(a);
            sregs.set(JAVA_LONG, SREGS_CS + SEGMENT_BASE, 0);
            sregs.set(java.lang.foreign.ValueLayout.JAVA_SHORT, SREGS_CS + SEGMENT_SELECTOR, (short) 0);
            vcpu.setSregs(sregs);
            MemorySegment regs = vcpu.getRegs(a);
            regs.set(JAVA_LONG, REGS_RIP, 0x1000);
            regs.set(JAVA_LONG, REGS_RFLAGS, 2);
            vcpu.setRegs(regs);
        }
        return m;
    }

    @Test
    void shouldDeliverPortWritesAndStopWithTheGuestStatus() throws Exception {
        byte[] code = {
                (byte) 0xBA, (byte) 0xF8, 0x03,       // mov dx, 0x3f8
                (byte) 0xB0, 'h', (byte) 0xEE,        // mov al,'h'; out dx,al
                (byte) 0xB0, 'i', (byte) 0xEE,        // mov al,'i'; out dx,al
                (byte) 0xB0, 0x07, (byte) 0xE6, (byte) 0xF4, // mov al,7; out 0xf4,al
                (byte) 0xF4                            // hlt
        };
        Recorder r = new Recorder();
        try (Machine m = realModeMachine(code)) {
            r.machine = m;
            m.start(r);
            StopReason reason = m.awaitStop(30, TimeUnit.SECONDS);
            assertThat(reason.kind()).isEqualTo(StopReason.Kind.POWER_OFF);
            assertThat(reason.code()).isEqualTo(7);
        }
        assertThat(r.serial.toString()).isEqualTo("hi");
    }

    @Test
    void shouldHarvestExactlyThePagesTheGuestAndTheVmmWrote() throws Exception {
        byte[] code = {
                (byte) 0xC6, 0x06, 0x00, 0x30, 0x11,   // mov byte [0x3000], 0x11
                (byte) 0xC6, 0x06, 0x08, 0x50, 0x22,   // mov byte [0x5008], 0x22
                (byte) 0xB0, 0x00, (byte) 0xE6, (byte) 0xF4, // out 0xf4, 0
                (byte) 0xF4
        };
        Recorder r = new Recorder();
        try (Machine m = realModeMachine(code)) {
            r.machine = m;
            m.dirtyTracker().harvest(); // forget the code the VMM loaded
            m.memory().putInt(0x7004, 42); // a device-style store by the VMM
            m.start(r);
            m.awaitStop(30, TimeUnit.SECONDS);
            DirtyPages dirty = m.dirtyTracker().harvest();
            List<Long> pages = new ArrayList<>();
            dirty.forEachPage(pages::add);
            assertThat(pages).containsExactly(0x3000L, 0x5000L, 0x7000L);
            assertThat(m.dirtyTracker().harvest().count()).isZero();
        }
    }
}
