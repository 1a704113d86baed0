package io.jremus.vmm.devices.acpi;

import io.jremus.vmm.MachineLayout;
import io.jremus.vmm.memory.GuestMemory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The complete, minimal set of ACPI tables for a jremus machine, laid out from
 * {@link MachineLayout#ACPI_TABLES}: RSDP (revision 2) → XSDT → {FADT → DSDT, MADT}.
 *
 * <p>The RSDP sits at the start of the area, 16-byte aligned inside 0xE0000–0xFFFFF, so a kernel
 * that is not handed its address (an old bzImage protocol, no PVH rsdp_paddr) still finds it by
 * the legacy BIOS-area scan. There is no RSDT: every kernel jremus boots reads the XSDT.
 * The area is reported reserved in the e820 map, so the guest never reuses it.
 *
 * <pre>
 *   AcpiTables tables = AcpiTables.build(AcpiConfig.of(vcpus, devices));
 *   tables.writeTo(memory);
 *   KernelBoot.boot(memory, kernel, initrd, cmdline, tables.rsdpAddress());
 * </pre>
 */
public final class AcpiTables {
    static final int RSDP_LENGTH = 36;
    static final int RSDP_V1_LENGTH = 20;
    static final int ALIGN = 16;

    private final List<AcpiTable> tables;

    private AcpiTables(List<AcpiTable> tables) {
        this.tables = tables;
    }

    /**
     * @throws IllegalArgumentException if the tables would not fit in [ACPI_TABLES, ACPI_TABLES_END)
     */
    public static AcpiTables build(AcpiConfig config) {
        byte[] dsdt = Dsdt.build(config);
        byte[] madt = Madt.build(config);
        long rsdpAt = MachineLayout.ACPI_TABLES;
        long xsdtAt = align(rsdpAt + RSDP_LENGTH);
        long fadtAt = align(xsdtAt + Sdt.HEADER_SIZE + 2 * 8);
        long madtAt = align(fadtAt + Fadt.LENGTH);
        long dsdtAt = align(madtAt + madt.length);
        long end = dsdtAt + dsdt.length;
        if (end > MachineLayout.ACPI_TABLES_END) {
            throw new IllegalArgumentException("ACPI tables need " + (end - rsdpAt) + " bytes; only "
                    + (MachineLayout.ACPI_TABLES_END - rsdpAt) + " are reserved");
        }
        return new AcpiTables(List.of(
                new AcpiTable("RSD PTR ", rsdpAt, rsdp(xsdtAt)),
                new AcpiTable("XSDT", xsdtAt, xsdt(fadtAt, madtAt)),
                new AcpiTable("FACP", fadtAt, Fadt.build(dsdtAt)),
                new AcpiTable("APIC", madtAt, madt),
                new AcpiTable("DSDT", dsdtAt, dsdt)));
    }

    /** Where the RSDP is: for {@code hvm_start_info.rsdp_paddr} and {@code boot_params.acpi_rsdp_addr}. */
    public long rsdpAddress() {
        return tables.getFirst().address();
    }

    public List<AcpiTable> tables() {
        return tables;
    }

    /** Copies every table into guest RAM (the whole reserved area is cleared first). */
    public void writeTo(GuestMemory memory) {
        memory.sliceForWrite(MachineLayout.ACPI_TABLES, MachineLayout.ACPI_TABLES_END - MachineLayout.ACPI_TABLES).fill((byte) 0);
        for (AcpiTable t : tables) memory.write(t.address(), t.bytes());
    }

    /**
     * RSDP revision 2: "RSD PTR ", checksum over the first 20 bytes, OEM id, revision, RSDT
     * address (0: none), length, XSDT address, extended checksum over all 36 bytes.
     */
    static byte[] rsdp(long xsdtAddress) {
        ByteBuffer b = ByteBuffer.allocate(RSDP_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        b.put(Sdt.ascii("RSD PTR ", 8));
        b.put((byte) 0);
        b.put(Sdt.ascii(Sdt.OEM_ID, 6));
        b.put((byte) 2);
        b.putInt(0);
        b.putInt(RSDP_LENGTH);
        b.putLong(xsdtAddress);
        byte[] r = b.array();
        r[8] = Sdt.checksum(r, 0, RSDP_V1_LENGTH);
        r[32] = Sdt.checksum(r, 0, RSDP_LENGTH);
        return r;
    }

    static byte[] xsdt(long... entries) {
        ByteBuffer t = Sdt.start("XSDT", 1, Sdt.HEADER_SIZE + 8 * entries.length);
        for (long e : entries) t.putLong(e);
        return Sdt.finish(t);
    }

    private static long align(long v) {
        return (v + ALIGN - 1) & -ALIGN;
    }
}
