package io.jremus.vmm.devices.acpi;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AmlTest {
    private static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) b[i] = (byte) v[i];
        return b;
    }

    @Test
    void shouldEncodePkgLengthInOneByteUpTo63AndMoreBytesBeyond() {
        assertThat(Aml.pkgLength(0)).isEqualTo(bytes(0x01));
        assertThat(Aml.pkgLength(62)).isEqualTo(bytes(0x3F));
        // 63 bytes of content + 2 length bytes = 65 = 0x41: lead 0x40 | 0x1, then 0x41 >> 4 = 0x04
        assertThat(Aml.pkgLength(63)).isEqualTo(bytes(0x41, 0x04));
        assertThat(Aml.pkgLength(0xFFD)).isEqualTo(bytes(0x4F, 0xFF));
        // 0xFFE + 3 = 0x1001: lead 0x80 | 0x1, then 0x00, 0x01
        assertThat(Aml.pkgLength(0xFFE)).isEqualTo(bytes(0x81, 0x00, 0x01));
    }

    @Test
    void shouldEncodeIntegersInTheirShortestForm() {
        assertThat(Aml.integer(0)).isEqualTo(bytes(0x00));
        assertThat(Aml.integer(1)).isEqualTo(bytes(0x01));
        assertThat(Aml.integer(5)).isEqualTo(bytes(0x0A, 0x05));
        assertThat(Aml.integer(0x3F8)).isEqualTo(bytes(0x0B, 0xF8, 0x03));
        assertThat(Aml.integer(0xD000_0000L)).isEqualTo(bytes(0x0C, 0x00, 0x00, 0x00, 0xD0));
        assertThat(Aml.integer(0x1_0000_0000L)).isEqualTo(bytes(0x0E, 0, 0, 0, 0, 1, 0, 0, 0));
    }

    @Test
    void shouldEncodeNameStringsWithRootPrefixAndPadding() {
        assertThat(Aml.nameString("\\_SB")).isEqualTo(bytes('\\', '_', 'S', 'B', '_'));
        assertThat(Aml.nameString("_UID")).isEqualTo(bytes('_', 'U', 'I', 'D'));
        assertThat(Aml.nameString("\\_SB.VR00")).isEqualTo(bytes('\\', 0x2E, '_', 'S', 'B', '_', 'V', 'R', '0', '0'));
        assertThatThrownBy(() -> Aml.nameString("toolong")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldEncodeEisaIdLikeAsl() {
        // iasl compiles EisaId ("PNP0501") to the DWord 0x0105D041
        assertThat(Aml.eisaId("PNP0501")).isEqualTo(bytes(0x0C, 0x41, 0xD0, 0x05, 0x01));
    }

    @Test
    void shouldEncodeANameWithAString() {
        assertThat(Aml.name("_HID", Aml.string("AB"))).isEqualTo(bytes(0x08, '_', 'H', 'I', 'D', 0x0D, 'A', 'B', 0));
    }

    @Test
    void shouldEncodeAPackageWithItsElementCount() {
        assertThat(Aml.packageOf(Aml.integer(5), Aml.integer(0))).isEqualTo(bytes(0x12, 0x05, 0x02, 0x0A, 0x05, 0x00));
    }

    @Test
    void shouldEncodeADeviceWithExtendedOpcodeAndLength() {
        byte[] d = Aml.device("VR00", Aml.name("_UID", Aml.integer(0)));
        assertThat(d).isEqualTo(bytes(0x5B, 0x82, 0x0B, 'V', 'R', '0', '0', 0x08, '_', 'U', 'I', 'D', 0x00));
    }

    @Test
    void shouldEncodeAResourceTemplateForAVirtioMmioWindow() {
        byte[] rt = new ResourceTemplate().memory32Fixed(0xD000_0000L, 0x200).extendedInterrupt(5, true).toAml();
        assertThat(rt).isEqualTo(bytes(
                0x11, 0x1A, 0x0A, 0x17,                           // Buffer, PkgLength 26, size 23
                0x86, 0x09, 0x00, 0x01, 0, 0, 0, 0xD0, 0x00, 0x02, 0, 0, // Memory32Fixed RW
                0x89, 0x06, 0x00, 0x01, 0x01, 0x05, 0, 0, 0,      // Interrupt consumer, level, high, exclusive
                0x79, 0x00));                                     // End tag
    }
}
