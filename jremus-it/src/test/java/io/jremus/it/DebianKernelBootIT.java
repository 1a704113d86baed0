package io.jremus.it;

import io.jremus.cli.image.LinuxImageBuilder;
import io.jremus.vmm.Vm;
import io.jremus.vmm.config.ConfigOverrides;
import io.jremus.vmm.config.VmConfig;
import io.jremus.vmm.config.VmConfigLoader;
import io.jremus.vmm.console.ConsoleLines;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Debian's stock kernel (its vmlinux, extracted by the image builder) through our PVH entry:
 * it must print its banner, the memory map we built and the ACPI tables we wrote. On this
 * host's software-assisted KVM it cannot go much further (ring-0 code is emulated and the
 * emulator lacks cmpxchg16b, see docs/architecture.md), so the test stops the VM once the
 * ACPI tables have been listed.
 */
class DebianKernelBootIT {
    @BeforeAll
    static void kvm() {
        TestGuest.requireKvm();
    }

    @Test
    void shouldPrintBannerMemoryMapAndOurAcpiTables() throws Exception {
        LinuxImageBuilder.LinuxImage image = LinuxImageBuilder.standard(System.err).build(false);
        VmConfig cfg = VmConfigLoader.fromFlags(new ConfigOverrides("debian", "256M", 1, image.vmlinux().toString(),
                image.initramfs().toString(), "console=ttyS0 earlyprintk=ttyS0", "none"), Path.of("").toAbsolutePath());
        ConsoleLines console = new ConsoleLines();
        try (Vm vm = Vm.create(cfg, new Vm.Options(console))) {
            vm.start();
            ConsoleLines.Line madt = console.await(l -> l.contains("ACPI: APIC 0x"), 240, TimeUnit.SECONDS);
            assertThat(madt).as("no MADT line from the kernel; console:\n" + console.transcript()).isNotNull();
            vm.stop("test saw what it needed");
        }
        List<String> lines = console.texts();
        assertThat(lines).anyMatch(l -> l.contains("Linux version 6."));
        assertThat(lines).anyMatch(l -> l.contains("BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable"));
        assertThat(lines).anyMatch(l -> l.contains("BIOS-e820: [mem 0x000000000009fc00-0x00000000000fffff] reserved"));
        assertThat(lines).anyMatch(l -> l.contains("BIOS-e820: [mem 0x0000000000100000-0x000000000fffffff] usable"));
        assertThat(lines).anyMatch(l -> l.contains("ACPI: RSDP 0x00000000000E0000") && l.contains("JREMUS"));
        for (String table : List.of("XSDT", "FACP", "DSDT", "APIC")) {
            assertThat(lines).anyMatch(l -> l.contains("ACPI: " + table + " 0x00000000000E") && l.contains("JREMUS"));
        }
    }
}
