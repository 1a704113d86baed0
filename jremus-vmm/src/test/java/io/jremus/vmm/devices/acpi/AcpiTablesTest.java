package io.jremus.vmm.devices.acpi;

import io.jremus.vmm.MachineLayout;
import io.jremus.vmm.memory.GuestMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AcpiTablesTest {
    private final Arena arena = Arena.ofConfined();
    private final GuestMemory memory = GuestMemory.of(arena.allocate(2 << 20, 4096));

    @AfterEach
    void free() {
        arena.close();
    }

    static List<AcpiMmioDevice> virtio(int n) {
        List<AcpiMmioDevice> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add(new AcpiMmioDevice(MachineLayout.VIRTIO_MMIO_BASE + i * MachineLayout.VIRTIO_MMIO_STRIDE,
                    MachineLayout.VIRTIO_MMIO_SIZE, MachineLayout.VIRTIO_FIRST_GSI + i));
        }
        return list;
    }

    private String sig(long at, int len) {
        return new String(memory.read(at, len), StandardCharsets.US_ASCII);
    }

    private int sum(long at, int len) {
        int s = 0;
        for (byte b : memory.read(at, len)) s += b;
        return s & 0xFF;
    }

    @Test
    void shouldMakeEveryTableSumToZero() {
        for (AcpiTable t : AcpiTables.build(AcpiConfig.of(2, virtio(2))).tables()) {
            byte[] b = t.bytes();
            int len = t.signature().equals("RSD PTR ") ? b.length : (b[4] & 0xFF) | (b[5] & 0xFF) << 8;
            assertThat(len).as("%s length field", t.signature()).isEqualTo(b.length);
            int s = 0;
            for (byte x : b) s += x;
            assertThat(s & 0xFF).as("%s checksum", t.signature()).isZero();
        }
    }

    @Test
    void shouldChainRsdpToXsdtToFadtToDsdtInGuestMemory() {
        AcpiTables tables = AcpiTables.build(AcpiConfig.of(2, virtio(3)));
        tables.writeTo(memory);
        long rsdp = tables.rsdpAddress();

        assertThat(rsdp).isEqualTo(MachineLayout.ACPI_TABLES);
        assertThat(sig(rsdp, 8)).isEqualTo("RSD PTR ");
        assertThat(memory.getByte(rsdp + 15)).as("revision").isEqualTo((byte) 2);
        assertThat(sum(rsdp, 20)).isZero();
        assertThat(sum(rsdp, 36)).isZero();

        long xsdt = memory.getLong(rsdp + 24);
        assertThat(sig(xsdt, 4)).isEqualTo("XSDT");
        assertThat(memory.getInt(xsdt + 4)).isEqualTo(36 + 16);
        long fadt = memory.getLong(xsdt + 36);
        long madt = memory.getLong(xsdt + 44);
        assertThat(sig(fadt, 4)).isEqualTo("FACP");
        assertThat(sig(madt, 4)).isEqualTo("APIC");

        assertThat(memory.getByte(fadt + 8)).as("FADT revision").isEqualTo((byte) 6);
        assertThat(memory.getInt(fadt + 112) & Fadt.FLAG_HW_REDUCED_ACPI).isNotZero();
        long dsdt = memory.getLong(fadt + 140);
        assertThat(Integer.toUnsignedLong(memory.getInt(fadt + 40))).isEqualTo(dsdt);
        assertThat(sig(dsdt, 4)).isEqualTo("DSDT");
        for (long t : new long[] {xsdt, fadt, madt, dsdt}) {
            assertThat(sum(t, memory.getInt(t + 4))).isZero();
            assertThat(t % 16).isZero();
        }
    }

    @Test
    void shouldPointTheFadtSleepAndResetRegistersAtTheSleepDevicePorts() {
        byte[] f = Fadt.build(0xE1000);
        assertThat(f[Fadt.OFF_SLEEP_CONTROL_REG]).as("SystemIO").isEqualTo((byte) 1);
        assertThat(f[Fadt.OFF_SLEEP_CONTROL_REG + 1]).as("8 bits").isEqualTo((byte) 8);
        assertThat(f[Fadt.OFF_SLEEP_CONTROL_REG + 4] & 0xFF | (f[Fadt.OFF_SLEEP_CONTROL_REG + 5] & 0xFF) << 8)
                .isEqualTo(MachineLayout.ACPI_SLEEP_CONTROL_PORT);
        assertThat(f[Fadt.OFF_SLEEP_STATUS_REG + 4] & 0xFF | (f[Fadt.OFF_SLEEP_STATUS_REG + 5] & 0xFF) << 8)
                .isEqualTo(MachineLayout.ACPI_SLEEP_STATUS_PORT);
        assertThat(f[Fadt.OFF_RESET_REG + 4] & 0xFF | (f[Fadt.OFF_RESET_REG + 5] & 0xFF) << 8)
                .isEqualTo(MachineLayout.ACPI_RESET_PORT);
        assertThat(f[Fadt.OFF_RESET_VALUE]).isEqualTo((byte) AcpiSleepDevice.RESET_VALUE);
    }

    @Test
    void shouldListOneEnabledLocalApicPerVcpuAndTheIoApic() {
        byte[] m = Madt.build(AcpiConfig.of(3, List.of()));
        int p = 44;
        for (int i = 0; i < 3; i++, p += 8) {
            assertThat(m[p]).isEqualTo((byte) 0);
            assertThat(m[p + 2]).as("UID").isEqualTo((byte) i);
            assertThat(m[p + 3]).as("APIC id").isEqualTo((byte) i);
            assertThat(m[p + 4]).as("enabled").isEqualTo((byte) 1);
        }
        assertThat(m[p]).as("IOAPIC entry").isEqualTo((byte) 1);
        assertThat(m[p + 4] & 0xFF | (m[p + 7] & 0xFF) << 24).isEqualTo(0xFE00_0000 | 0x00);
        assertThat(m.length).as("no IRQ0 override by default").isEqualTo(36 + 8 + 3 * 8 + 12 + 6);
        assertThat(Madt.build(new AcpiConfig(3, List.of(), true, true)).length).isEqualTo(m.length + 10);
    }

    @Test
    void shouldFitTheLargestMachineInTheReservedArea() {
        AcpiTables t = AcpiTables.build(AcpiConfig.of(AcpiConfig.MAX_VCPUS, virtio(MachineLayout.VIRTIO_MMIO_MAX_DEVICES)));
        AcpiTable last = t.tables().getLast();
        assertThat(last.address() + last.bytes().length).isLessThanOrEqualTo(MachineLayout.ACPI_TABLES_END);
    }

    @Test
    void shouldRejectImpossibleConfigurations() {
        assertThatThrownBy(() -> AcpiConfig.of(0, List.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new AcpiMmioDevice(0xD000_0000L, 0x200, 24)).hasMessageContaining("GSI 24");
    }
}
