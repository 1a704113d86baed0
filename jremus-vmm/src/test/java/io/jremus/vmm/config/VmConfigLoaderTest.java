package io.jremus.vmm.config;

import io.jremus.vmm.net.MacAddress;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VmConfigLoaderTest {
    @TempDir
    Path dir;
    Path kernel;

    @BeforeEach
    void files() throws IOException {
        Files.createDirectories(dir.resolve("images"));
        kernel = Files.writeString(dir.resolve("images/vmlinux"), "ELF");
        Files.writeString(dir.resolve("images/initramfs.cpio.gz"), "cpio");
        Files.writeString(dir.resolve("data.img"), "disk");
    }

    private VmConfig parse(String toml) throws ConfigException {
        return VmConfigLoader.parse(toml, dir);
    }

    private void assertError(String toml, String message) {
        assertThatThrownBy(() -> parse(toml)).isInstanceOf(ConfigException.class).hasMessage(message);
    }

    @Test
    void shouldReadAFullConfigWithPathsRelativeToTheFile() throws Exception {
        Path file = Files.writeString(dir.resolve("web.toml"), """
                memory  = "512M"
                vcpus   = 2
                kernel  = "images/vmlinux"
                initrd  = "images/initramfs.cpio.gz"
                cmdline = "console=ttyS0 quiet"
                serial  = "logs/../serial.log"

                [[net]]
                tap    = "tap0"
                mac    = "52:54:00:AB:cd:01"
                create = true

                [[net]]
                tap = "tap1"

                [[disk]]
                path     = "data.img"
                readonly = true
                """);
        VmConfig c = VmConfigLoader.load(file);

        assertThat(c.name()).isEqualTo("web");
        assertThat(c.memoryBytes()).isEqualTo(512L << 20);
        assertThat(c.memoryMib()).isEqualTo(512);
        assertThat(c.vcpus()).isEqualTo(2);
        assertThat(c.kernel()).isEqualTo(dir.resolve("images/vmlinux"));
        assertThat(c.initrd()).contains(dir.resolve("images/initramfs.cpio.gz"));
        assertThat(c.cmdline()).isEqualTo("console=ttyS0 quiet");
        assertThat(c.serial()).isEqualTo(new SerialConfig.ToFile(dir.resolve("serial.log")));
        assertThat(c.nets()).hasSize(2);
        assertThat(c.nets().get(0)).isEqualTo(new NetConfig("tap0", MacAddress.parse("52:54:00:ab:cd:01"), true));
        assertThat(c.nets().get(0).mac()).hasToString("52:54:00:ab:cd:01");
        assertThat(c.nets().get(1).create()).isFalse();
        assertThat(c.disks()).containsExactly(new DiskConfig(dir.resolve("data.img"), true));
    }

    @Test
    void shouldApplyDefaultsToAMinimalConfig() throws Exception {
        VmConfig c = parse("kernel = \"images/vmlinux\"");
        assertThat(c.name()).isEqualTo("vm");
        assertThat(c.memoryMib()).isEqualTo(256);
        assertThat(c.vcpus()).isEqualTo(1);
        assertThat(c.initrd()).isEmpty();
        assertThat(c.cmdline()).isEmpty();
        assertThat(c.serial()).isEqualTo(new SerialConfig.Stdout());
        assertThat(c.nets()).isEmpty();
        assertThat(c.disks()).isEmpty();
    }

    @Test
    void shouldAcceptAbsolutePathsAndSerialNone() throws Exception {
        VmConfig c = parse("kernel = \"" + kernel + "\"\nserial = \"none\"\nname = \"db-1\"");
        assertThat(c.kernel()).isEqualTo(kernel);
        assertThat(c.serial()).isEqualTo(new SerialConfig.None());
        assertThat(c.name()).isEqualTo("db-1");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "\"256M\"   | 256", "\"1G\"   | 1024", "\"512MiB\" | 512", "\"2g\" | 2048",
            "\"16384K\" | 16", "\"64GiB\" | 65536", "300 | 300", "\"300\" | 300", "\"1 G\" | 1024"})
    void shouldParseMemorySizes(String value, long mib) throws Exception {
        assertThat(parse("kernel = \"images/vmlinux\"\nmemory = " + value).memoryMib()).isEqualTo(mib);
    }

    @Test
    void shouldDeriveTheSameMacFromTheSameNameAndSlot() throws Exception {
        String toml = "name = \"a\"\nkernel = \"images/vmlinux\"\n[[net]]\ntap = \"t0\"\n[[net]]\ntap = \"t1\"";
        VmConfig one = parse(toml);
        VmConfig two = parse(toml);
        assertThat(one.nets()).isEqualTo(two.nets());
        MacAddress m0 = one.nets().get(0).mac();
        assertThat(m0.toString()).startsWith("52:54:00:");
        assertThat(m0.isMulticast()).isFalse();
        assertThat(m0).isNotEqualTo(one.nets().get(1).mac());
    }

    @Test
    void shouldReportInvalidTomlWithItsLine() {
        assertError("kernel = \"images/vmlinux\"\nmemory = = 3\n", "vm.toml: line 2: invalid TOML: Unknown token");
    }

    @Test
    void shouldRejectUnknownKeysAndSuggestTheNearest() {
        assertError("kernel = \"images/vmlinux\"\nmemroy = \"1G\"",
                "vm.toml: unknown key \"memroy\" (did you mean \"memory\"?)");
        assertError("kernel = \"images/vmlinux\"\nvcpu = 2", "vm.toml: unknown key \"vcpu\" (did you mean \"vcpus\"?)");
        assertError("kernel = \"images/vmlinux\"\n[[net]]\ntpa = \"t\"",
                "vm.toml: net[0]: unknown key \"tpa\" (did you mean \"tap\"?)");
        assertError("kernel = \"images/vmlinux\"\nballoon = true",
                "vm.toml: unknown key \"balloon\" (known keys: name, memory, vcpus, kernel, initrd, cmdline, serial, net, disk)");
    }

    @Test
    void shouldExplainBadMemoryValues() {
        String k = "kernel = \"images/vmlinux\"\n";
        assertError(k + "memory = \"12X\"", "vm.toml: memory: \"12X\" is not a size (use e.g. 256M or 1G)");
        assertError(k + "memory = \"1.5G\"", "vm.toml: memory: \"1.5G\" is not a size (use e.g. 256M or 1G)");
        assertError(k + "memory = \"8M\"", "vm.toml: memory: \"8M\" is below the minimum of 16 MiB");
        assertError(k + "memory = 8", "vm.toml: memory: 8 MiB is below the minimum of 16 MiB");
        assertError(k + "memory = \"65G\"", "vm.toml: memory: \"65G\" is above the maximum of 64 GiB");
        assertError(k + "memory = 99999999999", "vm.toml: memory: 99999999999 MiB is out of range (16 MiB to 64 GiB)");
        assertError(k + "memory = \"99999999999999T\"", "vm.toml: memory: \"99999999999999T\" is not a size (use e.g. 256M or 1G)");
        assertError(k + "memory = \"20000K\"", "vm.toml: memory: \"20000K\" is not a whole number of MiB");
        assertError(k + "memory = true", "vm.toml: memory: expected a size like \"256M\" or a number of MiB, got true");
    }

    @Test
    void shouldExplainBadScalarValues() {
        String k = "kernel = \"images/vmlinux\"\n";
        assertError(k + "vcpus = 0", "vm.toml: vcpus: 0 is out of range (1..64)");
        assertError(k + "vcpus = 65", "vm.toml: vcpus: 65 is out of range (1..64)");
        assertError(k + "vcpus = \"2\"", "vm.toml: vcpus: expected an integer, got \"2\"");
        assertError(k + "name = \"my vm\"", "vm.toml: name: \"my vm\" is not a valid VM name "
                + "(1-64 letters, digits, '.', '_' or '-', starting with a letter or digit)");
        assertError(k + "cmdline = 3", "vm.toml: cmdline: expected a string, got 3");
        assertError(k + "cmdline = \"" + "x".repeat(4096) + "\"",
                "vm.toml: cmdline: is 4096 bytes, longer than the maximum of 4095");
    }

    @Test
    void shouldExplainMissingOrBadFiles() {
        assertError("memory = \"1G\"", "vm.toml: kernel: required (the path of the guest kernel)");
        assertError("kernel = \"/x/y\"", "vm.toml: kernel: /x/y does not exist");
        assertError("kernel = \"images\"", "vm.toml: kernel: " + dir.resolve("images") + " is a directory, not a file");
        assertError("kernel = \"\"", "vm.toml: kernel: must not be empty");
        assertError("kernel = \"images/vmlinux\"\ninitrd = \"nope.gz\"", "vm.toml: initrd: " + dir.resolve("nope.gz") + " does not exist");
        assertError("kernel = \"images/vmlinux\"\nserial = \"no/such/dir/log\"",
                "vm.toml: serial: directory " + dir.resolve("no/such/dir") + " does not exist");
        assertError("kernel = \"images/vmlinux\"\nserial = \"images\"",
                "vm.toml: serial: " + dir.resolve("images") + " is a directory (use \"stdout\", \"none\" or a file path)");
    }

    @Test
    void shouldExplainBadNetTables() {
        String k = "kernel = \"images/vmlinux\"\n";
        assertError(k + "[[net]]\nmac = \"52:54:00:00:00:01\"", "vm.toml: net[0].tap: required (the name of the host TAP device)");
        assertError(k + "[[net]]\ntap = \"a-very-long-tap-name\"", "vm.toml: net[0].tap: \"a-very-long-tap-name\" is longer than 15 characters");
        assertError(k + "[[net]]\ntap = \"a/b\"", "vm.toml: net[0].tap: \"a/b\" is not a valid interface name");
        assertError(k + "[[net]]\ntap = \"t0\"\nmac = \"52:54:00:zz:00:01\"",
                "vm.toml: net[0].mac: \"52:54:00:zz:00:01\" is not a MAC address (use e.g. 52:54:00:12:34:56)");
        assertError(k + "[[net]]\ntap = \"t0\"\nmac = \"01:00:5e:00:00:01\"",
                "vm.toml: net[0].mac: 01:00:5e:00:00:01 is a multicast address (the first octet must be even)");
        assertError(k + "[[net]]\ntap = \"t0\"\nmac = \"00:00:00:00:00:00\"", "vm.toml: net[0].mac: 00:00:00:00:00:00 is not a usable address");
        assertError(k + "[[net]]\ntap = \"t0\"\ncreate = \"yes\"", "vm.toml: net[0].create: expected true or false, got \"yes\"");
        assertError(k + "[[net]]\ntap = \"t0\"\n[[net]]\ntap = \"t0\"", "vm.toml: net[1].tap: \"t0\" is already used by net[0]");
        assertError(k + "[[net]]\ntap = \"t0\"\nmac = \"52:54:00:00:00:01\"\n[[net]]\ntap = \"t1\"\nmac = \"52:54:00:00:00:01\"",
                "vm.toml: net[1].mac: 52:54:00:00:00:01 is already used by net[0]");
        assertError(k + "[net]\ntap = \"t0\"", "vm.toml: net: write [[net]] (an array of tables), not [net]");
    }

    @Test
    void shouldExplainBadDiskTables() throws IOException {
        String k = "kernel = \"images/vmlinux\"\n";
        assertError(k + "[[disk]]\nreadonly = true", "vm.toml: disk[0].path: required (the disk image file)");
        assertError(k + "[[disk]]\npath = \"missing.img\"", "vm.toml: disk[0].path: " + dir.resolve("missing.img") + " does not exist");
        assertError(k + "[[disk]]\npath = \"data.img\"\n[[disk]]\npath = \"./data.img\"",
                "vm.toml: disk[1].path: " + dir.resolve("data.img") + " is already used by disk[0]");
        StringBuilder many = new StringBuilder(k);
        for (int i = 0; i < 17; i++) {
            many.append("[[net]]\ntap = \"t").append(i).append("\"\n");
        }
        assertError(many.toString(), "vm.toml: net, disk: 17 devices, but at most 16 fit (virtio-mmio slots)");
    }

    @Test
    void shouldNameTheFileAsGivenWhenLoading() throws IOException {
        Path file = Files.writeString(dir.resolve("bad.toml"), "kernel = \"/x/y\"");
        assertThatThrownBy(() -> VmConfigLoader.load(file)).hasMessage(file + ": kernel: /x/y does not exist");
        assertThatThrownBy(() -> VmConfigLoader.load(dir.resolve("none.toml")))
                .hasMessage(dir.resolve("none.toml") + ": config file does not exist");
    }

    @Test
    void shouldLetFlagsOverrideFileValues() throws Exception {
        Path cwd = Files.createDirectories(dir.resolve("cwd"));
        Path otherKernel = Files.writeString(cwd.resolve("bzImage"), "MZ");
        VmConfig file = parse("kernel = \"images/vmlinux\"\ninitrd = \"images/initramfs.cpio.gz\"\nmemory = \"1G\"\n"
                + "[[disk]]\npath = \"data.img\"");

        VmConfig c = file.withOverrides(ConfigOverrides.none().withMemory("2G").withVcpus(4).withKernel("bzImage")
                .withCmdline("console=ttyS0").withSerial("out.log").withInitrd(""), cwd);

        assertThat(c.memoryMib()).isEqualTo(2048);
        assertThat(c.vcpus()).isEqualTo(4);
        assertThat(c.kernel()).isEqualTo(otherKernel);
        assertThat(c.initrd()).isEmpty();
        assertThat(c.cmdline()).isEqualTo("console=ttyS0");
        assertThat(c.serial()).isEqualTo(new SerialConfig.ToFile(cwd.resolve("out.log")));
        assertThat(c.disks()).isEqualTo(file.disks());
        assertThat(file.withOverrides(ConfigOverrides.none(), cwd)).isEqualTo(file);
    }

    @Test
    void shouldNameTheFlagInOverrideErrors() throws Exception {
        VmConfig file = parse("kernel = \"images/vmlinux\"");
        assertThatThrownBy(() -> file.withOverrides(ConfigOverrides.none().withMemory("12X"), dir))
                .hasMessage("--memory: \"12X\" is not a size (use e.g. 256M or 1G)");
        assertThatThrownBy(() -> file.withOverrides(ConfigOverrides.none().withVcpus(100), dir))
                .hasMessage("--vcpus: 100 is out of range (1..64)");
        assertThatThrownBy(() -> file.withOverrides(ConfigOverrides.none().withKernel("/x/y"), dir))
                .hasMessage("--kernel: /x/y does not exist");
    }

    @Test
    void shouldBuildAConfigFromFlagsAlone() throws Exception {
        VmConfig c = VmConfigLoader.fromFlags(ConfigOverrides.none().withKernel("images/vmlinux").withMemory("64M"), dir);
        assertThat(c.kernel()).isEqualTo(kernel);
        assertThat(c.memoryMib()).isEqualTo(64);
        assertThat(c.initrd()).isEqualTo(Optional.empty());
        assertThatThrownBy(() -> VmConfigLoader.fromFlags(ConfigOverrides.none(), dir))
                .hasMessage("--kernel: required when no config file is given");
    }
}
