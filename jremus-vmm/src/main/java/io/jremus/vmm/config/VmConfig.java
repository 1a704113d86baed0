package io.jremus.vmm.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A validated VM configuration: what {@link VmConfigLoader} makes of a TOML file, possibly with
 * command-line overrides applied. All paths are absolute and every file existed when it was
 * checked; values are in range (memory a whole number of MiB in 16 MiB..64 GiB, 1..64 vCPUs,
 * at most {@link io.jremus.vmm.MachineLayout#VIRTIO_MMIO_MAX_DEVICES} NICs and disks together,
 * no TAP name, MAC or disk used twice). The compact constructor re-checks only what would make
 * the VMM misbehave; the friendly messages come from the loader.
 *
 * @param name        VM name (file name of the config without {@code .toml} unless given)
 * @param memoryBytes guest RAM size in bytes
 * @param vcpus       number of vCPUs; KVM's own maximum is checked when the vCPUs are created
 * @param kernel      guest kernel: an ELF (vmlinux with a PVH note, or the test guest) or a bzImage
 * @param initrd      initial ramdisk, if any
 * @param cmdline     kernel command line, possibly empty
 * @param serial      where COM1 output goes
 * @param nets        NICs in {@code [[net]]} order
 * @param disks       disks in {@code [[disk]]} order
 */
public record VmConfig(String name, long memoryBytes, int vcpus, Path kernel, Optional<Path> initrd,
                       String cmdline, SerialConfig serial, List<NetConfig> nets, List<DiskConfig> disks) {

    public static final long DEFAULT_MEMORY = 256 * MemorySize.MIB;
    public static final int DEFAULT_VCPUS = 1;

    public VmConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(initrd, "initrd");
        Objects.requireNonNull(cmdline, "cmdline");
        Objects.requireNonNull(serial, "serial");
        nets = List.copyOf(nets);
        disks = List.copyOf(disks);
        if (memoryBytes < ConfigRules.MIN_MEMORY || memoryBytes > ConfigRules.MAX_MEMORY
                || memoryBytes % MemorySize.MIB != 0) {
            throw new IllegalArgumentException("memory out of range: " + memoryBytes);
        }
        if (vcpus < 1 || vcpus > ConfigRules.MAX_VCPUS) {
            throw new IllegalArgumentException("vcpus out of range: " + vcpus);
        }
    }

    public long memoryMib() {
        return memoryBytes / MemorySize.MIB;
    }

    /**
     * This config with the given command-line values in place of the file's, each checked as
     * the file's would be. Relative paths are resolved against {@code workingDir}.
     *
     * @throws ConfigException naming the flag, e.g. {@code --memory: "12X" is not a size (use e.g. 256M or 1G)}
     */
    public VmConfig withOverrides(ConfigOverrides o, Path workingDir) throws ConfigException {
        String newName = o.name() == null ? name : ConfigRules.name("--name", o.name());
        long newMemory = o.memory() == null ? memoryBytes : ConfigRules.memory("--memory", o.memory());
        int newVcpus = o.vcpus() == null ? vcpus : ConfigRules.vcpus("--vcpus", o.vcpus());
        Path newKernel = o.kernel() == null ? kernel : ConfigRules.readableFile("--kernel", o.kernel(), workingDir);
        Optional<Path> newInitrd = o.initrd() == null ? initrd
                : o.initrd().isEmpty() ? Optional.empty()
                : Optional.of(ConfigRules.readableFile("--initrd", o.initrd(), workingDir));
        String newCmdline = o.cmdline() == null ? cmdline : ConfigRules.cmdline("--cmdline", o.cmdline());
        SerialConfig newSerial = o.serial() == null ? serial : ConfigRules.serial("--serial", o.serial(), workingDir);
        return new VmConfig(newName, newMemory, newVcpus, newKernel, newInitrd, newCmdline, newSerial, nets, disks);
    }
}
