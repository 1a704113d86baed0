package io.jremus.vmm.boot;

import io.jremus.vmm.MachineLayout;
import io.jremus.vmm.boot.TestImages.BzImageSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.Optional;
import java.util.function.Consumer;

import static io.jremus.vmm.boot.GuestMemoryFixture.segment;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BzImageBootTest {
    private static final long MIB = 1 << 20;
    private static final long RAM = 64 * MIB;
    private static final long ZP = MachineLayout.ZERO_PAGE;
    private final GuestMemoryFixture ram = new GuestMemoryFixture(RAM);

    @AfterEach
    void free() {
        ram.close();
    }

    private BootPlan boot(Consumer<BzImageSpec> tweak, Optional<MemorySegment> initrd, String cmdline) {
        BzImageSpec s = new BzImageSpec();
        tweak.accept(s);
        return BzImageBoot.boot(ram.memory, segment(TestImages.bzImage(s)), initrd, cmdline, MachineLayout.ACPI_TABLES);
    }

    private BootPlan boot(Consumer<BzImageSpec> tweak) {
        return boot(tweak, Optional.empty(), "console=ttyS0");
    }

    @Test
    void shouldPlaceProtectedModeKernelAtLoadAddressFromSetupHeader() {
        BootPlan p = boot(s -> { });
        long load = 0x1000000;
        assertThat(p.loaded().kernelStart()).isEqualTo(load);
        for (int i : new int[] {0, 1, 0x200, 0x2FFF}) {
            assertThat(ram.memory.getByte(load + i)).as("byte %x", i).isEqualTo(TestImages.pmByte(i));
        }
        assertThat(p.loaded().kernelEnd()).as("init_size is larger than the file").isEqualTo(load + 0x800000);
    }

    @Test
    void shouldLoadANonRelocatableKernelAtOneMiB() {
        BootPlan p = boot(s -> s.relocatable = false);
        assertThat(p.loaded().kernelStart()).isEqualTo(MIB);
        assertThat(ram.memory.getByte(MIB + 5)).isEqualTo(TestImages.pmByte(5));
    }

    @Test
    void shouldTreatZeroSetupSectsAsFour() {
        boot(s -> s.setupSects = 0);
        assertThat(ram.memory.getByte(0x1000000)).isEqualTo(TestImages.pmByte(0));
    }

    @Test
    void shouldFillTheZeroPageFromTheSetupHeaderAndTheLoader() {
        byte[] initrd = new byte[10000];
        BootPlan p = boot(s -> { }, Optional.of(segment(initrd)), "console=ttyS0 panic=-1");
        var m = ram.memory;

        assertThat(m.getShort(ZP + 0x1FE)).as("boot_flag copied").isEqualTo((short) 0xAA55);
        assertThat(m.getInt(ZP + 0x202)).as("HdrS copied").isEqualTo(0x53726448);
        assertThat(m.getShort(ZP + 0x1FA)).as("vid_mode copied").isEqualTo((short) 0xFFFF);
        assertThat(m.getShort(ZP + 0x206)).isEqualTo((short) 0x020F);
        assertThat(Byte.toUnsignedInt(m.getByte(ZP + 0x210))).as("type_of_loader").isEqualTo(0xFF);
        assertThat(m.getInt(ZP + 0x228)).as("cmd_line_ptr").isEqualTo((int) MachineLayout.CMDLINE);
        assertThat(m.getInt(ZP + 0x218)).as("ramdisk_image").isEqualTo((int) p.loaded().initrdStart());
        assertThat(m.getInt(ZP + 0x21C)).as("ramdisk_size").isEqualTo(10000);
        assertThat(p.loaded().initrdStart()).isEqualTo((RAM - 10000) & ~0xFFFL);
        assertThat(m.getLong(ZP + 0x070)).as("acpi_rsdp_addr").isEqualTo(MachineLayout.ACPI_TABLES);
        assertThat(m.getByte(ZP + 0x1E8)).as("e820_entries").isEqualTo((byte) 3);
        long e2 = ZP + 0x2D0 + 2 * 20;
        assertThat(m.getLong(e2)).isEqualTo(MIB);
        assertThat(m.getLong(e2 + 8)).isEqualTo(RAM - MIB);
        assertThat(m.getInt(e2 + 16)).isEqualTo(E820Entry.RAM);
        assertThat(m.getByte(ZP + 0x26C)).as("nothing past the header end is copied").isZero();
    }

    @Test
    void shouldEnterLongModeAtLoadAddressPlus0x200WithTheZeroPageInRsi() {
        BootPlan p = boot(s -> { });

        assertThat(p.mode()).isEqualTo(CpuMode.LONG_64);
        assertThat(p.rip()).isEqualTo(0x1000200);
        assertThat(p.rsi()).isEqualTo(ZP);
        assertThat(p.cr0() & (BootPlan.CR0_PE | BootPlan.CR0_PG)).isEqualTo(BootPlan.CR0_PE | BootPlan.CR0_PG);
        assertThat(p.cr4() & BootPlan.CR4_PAE).isNotZero();
        assertThat(p.efer()).isEqualTo(BootPlan.EFER_LME | BootPlan.EFER_LMA);
        assertThat(p.cr3()).isEqualTo(MachineLayout.BOOT_PML4);
        assertThat(p.rflags() & 0x200).as("interrupts off").isZero();
        assertThat(p.cs().selector()).isEqualTo(0x10);
        assertThat(p.cs().l()).isTrue();
        assertThat(p.cs().db()).isFalse();
        assertThat(p.ds().selector()).isEqualTo(0x18);
        assertThat(p.ss()).isEqualTo(p.ds());
        assertThat(ram.memory.getLong(MachineLayout.BOOT_GDT + 0x10)).isEqualTo(0x00AF9B000000FFFFL);
        assertThat(ram.memory.getLong(MachineLayout.BOOT_GDT + 0x18)).isEqualTo(0x00CF93000000FFFFL);
    }

    @Test
    void shouldIdentityMapTheFirstFourGiBWithTwoMiBPages() {
        boot(s -> { });
        var m = ram.memory;
        assertThat(m.getLong(MachineLayout.BOOT_PML4)).isEqualTo(MachineLayout.BOOT_PDPT | 0x3);
        for (int gib = 0; gib < 4; gib++) {
            long pd = MachineLayout.BOOT_PD + gib * 0x1000L;
            assertThat(m.getLong(MachineLayout.BOOT_PDPT + gib * 8L)).isEqualTo(pd | 0x3);
            assertThat(m.getLong(pd + 8 * 8)).isEqualTo(((long) gib << 30) + 8 * (2 * MIB) | 0x83);
        }
    }

    @Test
    void shouldRejectBadBootFlag() {
        assertThatThrownBy(() -> boot(s -> s.bootFlag = 0x1234)).isInstanceOf(BootException.class)
                .hasMessageContaining("boot_flag is 0x1234");
    }

    @Test
    void shouldRejectMissingHdrSMagic() {
        assertThatThrownBy(() -> boot(s -> s.magic = 0)).hasMessageContaining("\"HdrS\"");
    }

    @Test
    void shouldRejectAnOldBootProtocol() {
        assertThatThrownBy(() -> boot(s -> s.version = 0x0206)).hasMessageContaining("boot protocol 2.06 is older than 2.12");
    }

    @Test
    void shouldRejectAKernelWithoutA64BitEntry() {
        assertThatThrownBy(() -> boot(s -> s.xloadflags = 0)).hasMessageContaining("XLF_KERNEL_64");
    }

    @Test
    void shouldRejectAZImage() {
        assertThatThrownBy(() -> boot(s -> s.loadflags = 0)).hasMessageContaining("LOADED_HIGH");
    }

    @Test
    void shouldRejectACommandLineLongerThanTheKernelAccepts() {
        assertThatThrownBy(() -> boot(s -> s.cmdlineSize = 10, Optional.empty(), "console=ttyS0"))
                .hasMessageContaining("13 bytes; at most 10 fit");
    }

    @Test
    void shouldRejectAKernelWhoseInitSizeDoesNotFitInRam() {
        assertThatThrownBy(() -> boot(s -> s.initSize = RAM)).hasMessageContaining("does not fit in guest RAM");
    }

    @Test
    void shouldKeepTheInitrdBelowInitrdAddrMax() {
        BootPlan p = boot(s -> s.initrdAddrMax = 0x2FFFFFF, Optional.of(segment(new byte[4096])), "");
        assertThat(p.loaded().initrdStart()).isEqualTo(0x3000000 - 4096);
    }

    @Test
    void shouldRejectSetupSectorsPastTheEndOfTheFile() {
        byte[] image = TestImages.bzImage(new BzImageSpec());
        image[0x1F1] = (byte) 200;
        assertThatThrownBy(() -> BzImageBoot.boot(ram.memory, segment(image), Optional.empty(), "", 0))
                .hasMessageContaining("past the end of the file");
    }

    @Test
    void shouldRejectATruncatedSetupHeader() {
        byte[] image = java.util.Arrays.copyOf(TestImages.bzImage(new BzImageSpec()), 0x240);
        assertThatThrownBy(() -> BzImageBoot.boot(ram.memory, segment(image), Optional.empty(), "", 0))
                .hasMessageContaining("setup header").hasMessageContaining("outside the file");
    }
}
