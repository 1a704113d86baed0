package io.jremus.vmm.devices.acpi;

import io.jremus.vmm.MachineLayout;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Cross-checks the tables with ACPICA's own disassembler ({@code iasl -d}, Debian package
 * acpica-tools). Skipped where iasl is not installed; CI installs it.
 */
class AcpiTablesIaslTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void requireIasl() {
        boolean found = Arrays.stream(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .anyMatch(p -> Files.isExecutable(Path.of(p, "iasl")));
        Assumptions.assumeTrue(found, "iasl not on PATH: install acpica-tools to disassemble the ACPI tables");
    }

    private Map<String, String> disassembleAll(AcpiTables tables) throws IOException, InterruptedException {
        Map<String, String> out = new HashMap<>();
        for (AcpiTable t : tables.tables()) {
            // ACPICA's disassembler rejects a bare RSDP file ("does not contain a valid ACPI
            // table"): it only decodes one found in memory or in an acpidump. AcpiTablesTest
            // checks the RSDP's fields and both checksums instead.
            if (t.signature().equals("RSD PTR ")) continue;
            String name = t.signature().toLowerCase();
            Path file = Files.write(dir.resolve(name + ".dat"), t.bytes());
            Process p = new ProcessBuilder("iasl", "-d", file.getFileName().toString())
                    .directory(dir.toFile()).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as("iasl -d %s:%n%s", name, log).isZero();
            String dsl = Files.readString(dir.resolve(name + ".dsl"));
            assertThat(log + dsl).as("%s disassembly", name).doesNotContainIgnoringCase("incorrect checksum");
            out.put(t.signature(), dsl);
        }
        return out;
    }

    @Test
    void shouldDisassembleEveryTableWithIasl() throws Exception {
        var config = new AcpiConfig(2, AcpiTablesTest.virtio(2), true, true);
        AcpiTables tables = AcpiTables.build(config);
        Map<String, String> dsl = disassembleAll(tables);

        String dsdt = dsl.get("DSDT");
        assertThat(dsdt).contains("\"LNRO0005\"")
                .containsIgnoringCase("Memory32Fixed (ReadWrite,")
                .containsIgnoringCase("0xD0000000")
                .containsIgnoringCase("0xD0001000")
                .containsIgnoringCase("Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive, ,, )")
                .containsIgnoringCase("0x00000005")
                .containsIgnoringCase("0x00000006")
                .contains("EisaId (\"PNP0501\")")
                .contains("_S5");

        long dsdtAt = tables.tables().get(4).address();
        assertThat(dsl.get("FACP")).containsPattern("Hardware Reduced \\(V5\\) : 1")
                .containsPattern("Reset Register Supported \\(V2\\) : 1")
                .containsPattern("DSDT Address : " + String.format("%016X", dsdtAt))
                .containsPattern("Address : 0000000000000" + Integer.toHexString(MachineLayout.ACPI_SLEEP_CONTROL_PORT));
        assertThat(dsl.get("APIC")).containsPattern("Local Apic Address : FEE00000")
                .containsPattern("Address : FEC00000")
                .contains("[Interrupt Source Override]");
        assertThat(dsl.get("XSDT")).containsPattern("ACPI Table Address +0 : " + String.format("%016X", tables.tables().get(2).address()))
                .containsPattern("ACPI Table Address +1 : " + String.format("%016X", tables.tables().get(3).address()));
    }
}
