package io.jremus.vmm.boot;

import io.jremus.vmm.MachineLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

import static io.jremus.vmm.boot.GuestMemoryFixture.segment;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PvhBootTest {
    private static final long MIB = 1 << 20;
    private static final long RAM = 64 * MIB;
    private final GuestMemoryFixture ram = new GuestMemoryFixture(RAM);
    private final byte[] kernel = TestImages.elf(0x100000, new byte[0x2000], 0x1000, TestImages.pvhNote(0x100020, 4));

    @AfterEach
    void free() {
        ram.close();
    }

    private BootPlan boot(Optional<MemorySegment> initrd, String cmdline) {
        return PvhBoot.boot(ram.memory, segment(kernel), initrd, cmdline, MachineLayout.ACPI_TABLES);
    }

    @Test
    void shouldWriteStartInfoAtTheOffsetsXenSpecifies() {
        boot(Optional.of(segment(new byte[5000])), "console=ttyS0");
        long si = MachineLayout.PVH_START_INFO;
        var m = ram.memory;

        assertThat(m.getInt(si)).isEqualTo(0x336ec578);
        assertThat(m.getInt(si + 4)).isEqualTo(1);
        assertThat(m.getInt(si + 8)).isZero();
        assertThat(m.getInt(si + 12)).isEqualTo(1);
        assertThat(m.getLong(si + 16)).isEqualTo(MachineLayout.PVH_MODLIST);
        assertThat(m.getLong(si + 24)).isEqualTo(MachineLayout.CMDLINE);
        assertThat(m.getLong(si + 32)).isEqualTo(MachineLayout.ACPI_TABLES);
        assertThat(m.getLong(si + 40)).isEqualTo(MachineLayout.PVH_MEMMAP);
        assertThat(m.getInt(si + 48)).isEqualTo(3);
        assertThat(new String(m.read(MachineLayout.CMDLINE, 14), StandardCharsets.US_ASCII)).isEqualTo("console=ttyS0\0");
    }

    @Test
    void shouldListTheMemoryMapAsHvmMemmapEntries() {
        boot(Optional.empty(), "");
        long mm = MachineLayout.PVH_MEMMAP;
        var m = ram.memory;
        // entry 2: RAM [1 MiB, 64 MiB)
        assertThat(m.getLong(mm + 2 * 24)).isEqualTo(MIB);
        assertThat(m.getLong(mm + 2 * 24 + 8)).isEqualTo(RAM - MIB);
        assertThat(m.getInt(mm + 2 * 24 + 16)).isEqualTo(E820Entry.RAM);
        assertThat(m.getInt(mm + 24 + 16)).isEqualTo(E820Entry.RESERVED);
        assertThat(m.getInt(MachineLayout.PVH_START_INFO + 12)).as("no modules without an initrd").isZero();
    }

    @Test
    void shouldPlaceTheInitrdPageAlignedAtTheTopOfLowRam() {
        byte[] initrd = new byte[5000];
        initrd[0] = 0x1F;
        initrd[4999] = 0x42;
        BootPlan plan = boot(Optional.of(segment(initrd)), "");

        long expected = (RAM - 5000) & ~0xFFFL;
        assertThat(plan.loaded().initrdStart()).isEqualTo(expected);
        assertThat(ram.memory.getLong(MachineLayout.PVH_MODLIST)).isEqualTo(expected);
        assertThat(ram.memory.getLong(MachineLayout.PVH_MODLIST + 8)).isEqualTo(5000);
        assertThat(ram.memory.getByte(expected)).isEqualTo((byte) 0x1F);
        assertThat(ram.memory.getByte(expected + 4999)).isEqualTo((byte) 0x42);
    }

    @Test
    void shouldEnterInFlatProtectedModeWithStartInfoInEbx() {
        BootPlan p = boot(Optional.empty(), "");

        assertThat(p.mode()).isEqualTo(CpuMode.PROTECTED_32);
        assertThat(p.rip()).isEqualTo(0x100020);
        assertThat(p.rbx()).isEqualTo(MachineLayout.PVH_START_INFO);
        assertThat(p.cr0()).isEqualTo(0x11);
        assertThat(p.cr3()).isZero();
        assertThat(p.cr4()).isZero();
        assertThat(p.efer()).isZero();
        assertThat(p.rflags()).isEqualTo(2);
        assertThat(p.cs()).satisfies(cs -> {
            assertThat(cs.base()).isZero();
            assertThat(cs.limit()).isEqualTo(0xFFFF_FFFFL);
            assertThat(cs.db()).isTrue();
            assertThat(cs.l()).isFalse();
            assertThat(cs.type()).isEqualTo(0xB);
        });
        assertThat(p.ss()).isEqualTo(p.ds()).isEqualTo(p.es());
        assertThat(p.ds().type()).isEqualTo(0x3);
        assertThat(p.tr().limit()).isEqualTo(0x67);
        assertThat(p.tr().s()).isFalse();
    }

    @Test
    void shouldWriteGdtDescriptorsThatMatchTheSegmentRegisters() {
        BootPlan p = boot(Optional.empty(), "");
        long gdt = p.gdt().base();
        assertThat(ram.memory.getLong(gdt + 0x10)).isEqualTo(0x00CF9B000000FFFFL);
        assertThat(ram.memory.getLong(gdt + 0x18)).isEqualTo(0x00CF93000000FFFFL);
        assertThat(ram.memory.getLong(gdt + 0x20)).isEqualTo(0x00008B0000000067L);
        assertThat(p.gdt().limit()).isEqualTo(0x2F);
    }

    @Test
    void shouldRejectACommandLineLongerThanTheCmdlineArea() {
        String longLine = "x".repeat(MachineLayout.CMDLINE_MAX);
        assertThatThrownBy(() -> boot(Optional.empty(), longLine))
                .isInstanceOf(BootException.class).hasMessageContaining("4096 bytes; at most 4095 fit");
        assertThat(boot(Optional.empty(), "x".repeat(MachineLayout.CMDLINE_MAX - 1)).loaded().cmdlineAddress())
                .isEqualTo(MachineLayout.CMDLINE);
    }

    @Test
    void shouldRejectAnInitrdThatDoesNotFitAboveTheKernel() {
        MemorySegment huge = ram.arena.allocate(RAM - MIB); // would have to start at 1 MiB, inside the kernel
        assertThatThrownBy(() -> boot(Optional.of(huge), ""))
                .isInstanceOf(BootException.class).hasMessageContaining("initrd of").hasMessageContaining("does not fit");
    }
}
