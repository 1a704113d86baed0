package io.jremus.vmm.config;

/**
 * Values given on the command line ({@code --name --memory --vcpus --kernel --initrd --cmdline
 * --serial}) that replace the config file's. Each is {@code null} when the flag was not given.
 * They are raw text, checked by the same rules as the file's values; relative paths are
 * resolved against the working directory, not the config file's directory, because that is
 * where the user typed them. An empty {@code initrd} removes the file's initrd.
 */
public record ConfigOverrides(String name, String memory, Integer vcpus, String kernel, String initrd,
                              String cmdline, String serial) {

    public static ConfigOverrides none() {
        return new ConfigOverrides(null, null, null, null, null, null, null);
    }

    public ConfigOverrides withName(String v) {
        return new ConfigOverrides(v, memory, vcpus, kernel, initrd, cmdline, serial);
    }

    public ConfigOverrides withMemory(String v) {
        return new ConfigOverrides(name, v, vcpus, kernel, initrd, cmdline, serial);
    }

    public ConfigOverrides withVcpus(Integer v) {
        return new ConfigOverrides(name, memory, v, kernel, initrd, cmdline, serial);
    }

    public ConfigOverrides withKernel(String v) {
        return new ConfigOverrides(name, memory, vcpus, v, initrd, cmdline, serial);
    }

    public ConfigOverrides withInitrd(String v) {
        return new ConfigOverrides(name, memory, vcpus, kernel, v, cmdline, serial);
    }

    public ConfigOverrides withCmdline(String v) {
        return new ConfigOverrides(name, memory, vcpus, kernel, initrd, v, serial);
    }

    public ConfigOverrides withSerial(String v) {
        return new ConfigOverrides(name, memory, vcpus, kernel, initrd, cmdline, v);
    }
}
