package io.jremus.vmm.devices.acpi;

import io.jremus.vmm.MachineLayout;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The DSDT: the \_S5 sleep package that lets Linux power off through the FADT sleep registers,
 * and in \_SB one {@code LNRO0005} device per virtio-mmio transport (the only way Debian's
 * stock kernel, built without VIRTIO_MMIO_CMDLINE_DEVICES, finds them), plus COM1.
 *
 * <pre>
 * DefinitionBlock ("", "DSDT", 2, "JREMUS", "JREMUSVM", 1) {
 *   Name (\_S5, Package () { 5, 5, 0, 0 })
 *   Scope (\_SB) {
 *     Device (VR00) { Name (_HID, "LNRO0005")  Name (_UID, 0)
 *       Name (_CRS, ResourceTemplate () { Memory32Fixed (ReadWrite, base, 0x200)
 *                                         Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive) { gsi } }) }
 *     ...
 *     Device (COM1) { Name (_HID, EisaId ("PNP0501"))  Name (_UID, 1)
 *       Name (_CRS, ResourceTemplate () { IO (Decode16, 0x3F8, 0x3F8, 1, 8)  IRQNoFlags () { 4 } }) }
 *   }
 * }
 * </pre>
 *
 * Virtio interrupts are level-triggered because jremus devices drive their line as a level
 * (set while the interrupt status register is non-zero, cleared on acknowledge).
 */
final class Dsdt {
    /** Revision 2: integers are 64 bits. */
    static final int REVISION = 2;

    private Dsdt() {
    }

    static byte[] build(AcpiConfig config) {
        List<byte[]> devices = new ArrayList<>();
        List<AcpiMmioDevice> mmio = config.virtioMmio();
        if (mmio.size() > 256) throw new IllegalArgumentException("at most 256 virtio-mmio devices: " + mmio.size());
        for (int i = 0; i < mmio.size(); i++) {
            AcpiMmioDevice d = mmio.get(i);
            devices.add(Aml.device(String.format("VR%02X", i),
                    Aml.name("_HID", Aml.string("LNRO0005")),
                    Aml.name("_UID", Aml.integer(i)),
                    Aml.name("_CRS", new ResourceTemplate()
                            .memory32Fixed(d.base(), d.size())
                            .extendedInterrupt(d.gsi(), true)
                            .toAml())));
        }
        if (config.com1()) {
            devices.add(Aml.device("COM1",
                    Aml.name("_HID", Aml.eisaId("PNP0501")),
                    Aml.name("_UID", Aml.integer(1)),
                    Aml.name("_CRS", new ResourceTemplate()
                            .io(MachineLayout.SERIAL_COM1_PORT, 8)
                            .irqNoFlags(MachineLayout.SERIAL_COM1_GSI)
                            .toAml())));
        }
        int s5 = AcpiSleepDevice.SLP_TYP_S5;
        byte[] body = Aml.concat(
                Aml.name("\\_S5", Aml.packageOf(Aml.integer(s5), Aml.integer(s5), Aml.integer(0), Aml.integer(0))),
                Aml.scope("\\_SB", devices.toArray(byte[][]::new)));
        ByteBuffer t = Sdt.start("DSDT", REVISION, Sdt.HEADER_SIZE + body.length);
        t.put(body);
        return Sdt.finish(t);
    }
}
