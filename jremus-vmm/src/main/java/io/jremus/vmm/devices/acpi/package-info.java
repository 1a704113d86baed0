/**
 * Minimal ACPI for a jremus guest: static tables written once before boot (RSDP, XSDT, a
 * hardware-reduced FADT, MADT, and a DSDT built by a small AML encoder of our own), and the one
 * ACPI register device the FADT points at, for power-off and reset. Linux needs the DSDT to find
 * virtio-mmio devices when its kernel lacks VIRTIO_MMIO_CMDLINE_DEVICES (Debian's does).
 */
package io.jremus.vmm.devices.acpi;
