package io.jremus.vmm.boot;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MemoryMapTest {
    private static final long MIB = 1L << 20;
    private static final long GIB = 1L << 30;

    @Test
    void shouldMapSmallGuestAsLowRamWithTheLegacyHoleReserved() {
        assertThat(MemoryMap.forMemorySize(128 * MIB)).containsExactly(
                new E820Entry(0, 0x9FC00, E820Entry.RAM),
                new E820Entry(0x9FC00, 0x100000 - 0x9FC00, E820Entry.RESERVED),
                new E820Entry(0x100000, 128 * MIB - 0x100000, E820Entry.RAM));
    }

    @Test
    void shouldMapOneGiBGuest() {
        assertThat(MemoryMap.forMemorySize(GIB)).last().isEqualTo(new E820Entry(MIB, GIB - MIB, E820Entry.RAM));
        assertThat(GuestRamLayout.regionsFor(GIB)).containsExactly(new RamRegion(0, GIB));
    }

    @Test
    void shouldPutRamBeyondThreeGiBAboveFourGiB() {
        assertThat(GuestRamLayout.regionsFor(4 * GIB)).containsExactly(
                new RamRegion(0, 3 * GIB), new RamRegion(4 * GIB, GIB));
        assertThat(MemoryMap.forMemorySize(4 * GIB)).containsExactly(
                new E820Entry(0, 0x9FC00, E820Entry.RAM),
                new E820Entry(0x9FC00, 0x100000 - 0x9FC00, E820Entry.RESERVED),
                new E820Entry(MIB, 3 * GIB - MIB, E820Entry.RAM),
                new E820Entry(4 * GIB, GIB, E820Entry.RAM));
    }

    @Test
    void shouldKeepExactlyThreeGiBInOneRegion() {
        assertThat(GuestRamLayout.regionsFor(3 * GIB)).containsExactly(new RamRegion(0, 3 * GIB));
    }

    @Test
    void shouldRejectSizesThatAreTooSmallOrNotPageMultiples() {
        assertThatThrownBy(() -> GuestRamLayout.regionsFor(MIB)).isInstanceOf(BootException.class).hasMessageContaining("16 MiB");
        assertThatThrownBy(() -> GuestRamLayout.regionsFor(128 * MIB + 1)).isInstanceOf(BootException.class);
    }
}
