package io.jremus.vmm.boot;

/**
 * A GDTR or IDTR value, as in {@code kvm_dtable}.
 *
 * @param base  guest-physical (= linear, at boot) address of the table
 * @param limit size of the table in bytes minus one
 */
public record DescriptorTable(long base, int limit) {
}
