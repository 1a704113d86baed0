package io.jremus.vmm.devices.acpi;

/**
 * One finished table and where it goes in guest memory.
 *
 * @param signature "RSD PTR ", "XSDT", "FACP", "APIC" or "DSDT"
 * @param address   guest-physical address
 * @param bytes     the table, checksums filled in
 */
public record AcpiTable(String signature, long address, byte[] bytes) {
}
