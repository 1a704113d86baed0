package io.jremus.vmm.devices.acpi;

import java.util.List;

/**
 * What the ACPI tables describe.
 *
 * @param vcpus         number of vCPUs; vCPU i gets APIC id i and ACPI processor UID i
 * @param virtioMmio    the virtio-mmio transports, in the order their Device objects appear
 * @param com1          whether to list the 16550 at 0x3F8 / IRQ 4 (PNP0501)
 * @param isaIrq0OnGsi2 emit the PC interrupt source override IRQ0 → GSI2. Leave it false with
 *                      KVM's default GSI routing, which wires the in-kernel PIT to IOAPIC pin 0;
 *                      set it only if the VM core installs QEMU-style routing (GSI 0 → pin 2).
 */
public record AcpiConfig(int vcpus, List<AcpiMmioDevice> virtioMmio, boolean com1, boolean isaIrq0OnGsi2) {
    /** KVM's in-kernel IOAPIC has 24 pins. */
    public static final int IOAPIC_PINS = 24;
    /** xAPIC ids are 8 bits and 0xFF is the broadcast id. */
    public static final int MAX_VCPUS = 254;

    public AcpiConfig {
        if (vcpus < 1 || vcpus > MAX_VCPUS) {
            throw new IllegalArgumentException("vCPU count " + vcpus + " outside 1.." + MAX_VCPUS);
        }
        virtioMmio = List.copyOf(virtioMmio);
    }

    /** The usual machine: COM1 listed, KVM's default interrupt routing. */
    public static AcpiConfig of(int vcpus, List<AcpiMmioDevice> virtioMmio) {
        return new AcpiConfig(vcpus, virtioMmio, true, false);
    }
}
