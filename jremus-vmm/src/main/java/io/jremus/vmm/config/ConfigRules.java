package io.jremus.vmm.config;

import io.jremus.vmm.net.MacAddress;
import io.jremus.vmm.MachineLayout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/**
 * The checks on single values, shared by the TOML loader and the command-line overrides so a
 * value is judged the same wherever it comes from. Every method takes {@code where}, the prefix
 * of the error message ({@code vm.toml: memory} or {@code --memory}), and either returns the
 * checked value or throws a {@link ConfigException} whose message is {@code where: problem}.
 */
final class ConfigRules {
    /** Below this not even the busybox initramfs unpacks. */
    static final long MIN_MEMORY = 16 * MemorySize.MIB;
    /** A sanity bound, not a hardware one: larger guests need a deliberate change here. */
    static final long MAX_MEMORY = 64 * MemorySize.GIB;
    /** KVM's own limit (KVM_CAP_MAX_VCPUS) is checked by the VM core when it creates vCPUs. */
    static final int MAX_VCPUS = 64;
    /** Linux's IFNAMSIZ is 16 including the terminating NUL. */
    static final int MAX_TAP_NAME = 15;

    private static final Pattern VM_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    private ConfigRules() {
    }

    static ConfigException error(String where, String problem) {
        return new ConfigException(where + ": " + problem);
    }

    static String name(String where, String value) throws ConfigException {
        // The name ends up in file names, cluster resource ids and log lines: keep it plain.
        if (!VM_NAME.matcher(value).matches()) {
            throw error(where, quote(value) + " is not a valid VM name "
                    + "(1-64 letters, digits, '.', '_' or '-', starting with a letter or digit)");
        }
        return value;
    }

    /** A size string ({@code 256M}); see {@link MemorySize}. */
    static long memory(String where, String value) throws ConfigException {
        OptionalLong bytes = MemorySize.parseBytes(value);
        if (bytes.isEmpty()) {
            throw error(where, quote(value) + " is not a size (use e.g. 256M or 1G)");
        }
        return memoryBounds(where, quote(value), bytes.getAsLong());
    }

    /** The TOML integer form: a number of MiB. */
    static long memoryMib(String where, long mib) throws ConfigException {
        if (mib < 0 || mib > MAX_MEMORY / MemorySize.MIB) {
            throw error(where, mib + " MiB is out of range (" + MemorySize.format(MIN_MEMORY)
                    + " to " + MemorySize.format(MAX_MEMORY) + ")");
        }
        return memoryBounds(where, mib + " MiB", mib * MemorySize.MIB);
    }

    private static long memoryBounds(String where, String shown, long bytes) throws ConfigException {
        if (bytes < MIN_MEMORY) {
            throw error(where, shown + " is below the minimum of " + MemorySize.format(MIN_MEMORY));
        }
        if (bytes > MAX_MEMORY) {
            throw error(where, shown + " is above the maximum of " + MemorySize.format(MAX_MEMORY));
        }
        // RAM only needs whole pages, but a size that is not whole MiB is almost always a typo.
        if (bytes % MemorySize.MIB != 0) {
            throw error(where, shown + " is not a whole number of MiB");
        }
        return bytes;
    }

    static int vcpus(String where, long value) throws ConfigException {
        if (value < 1 || value > MAX_VCPUS) {
            throw error(where, value + " is out of range (1.." + MAX_VCPUS + ")");
        }
        return (int) value;
    }

    /**
     * A file that must exist and be readable now: kernel, initrd. Relative paths are resolved
     * against {@code baseDir}; {@code ~/} means the user's home directory.
     */
    static Path readableFile(String where, String value, Path baseDir) throws ConfigException {
        Path p = resolve(where, value, baseDir);
        if (!Files.exists(p)) {
            throw error(where, p + " does not exist");
        }
        if (Files.isDirectory(p)) {
            throw error(where, p + " is a directory, not a file");
        }
        if (!Files.isReadable(p)) {
            throw error(where, p + " is not readable");
        }
        return p;
    }

    /** A disk image: a file or block device, readable, and writable unless the disk is read-only. */
    static Path diskImage(String where, String value, Path baseDir, boolean readonly) throws ConfigException {
        Path p = readableFile(where, value, baseDir);
        if (!readonly && !Files.isWritable(p)) {
            throw error(where, p + " is not writable (set readonly = true to use it read-only)");
        }
        return p;
    }

    static SerialConfig serial(String where, String value, Path baseDir) throws ConfigException {
        return switch (value) {
            case "stdout" -> new SerialConfig.Stdout();
            case "none" -> new SerialConfig.None();
            default -> {
                Path p = resolve(where, value, baseDir);
                if (Files.isDirectory(p)) {
                    throw error(where, p + " is a directory (use \"stdout\", \"none\" or a file path)");
                }
                Path dir = p.getParent();
                if (dir == null || !Files.isDirectory(dir)) {
                    throw error(where, "directory " + dir + " does not exist");
                }
                yield new SerialConfig.ToFile(p);
            }
        };
    }

    static String cmdline(String where, String value) throws ConfigException {
        int bytes = value.getBytes(StandardCharsets.UTF_8).length;
        // The boot code copies it to MachineLayout.CMDLINE with a terminating NUL.
        if (bytes > MachineLayout.CMDLINE_MAX - 1) {
            throw error(where, "is " + bytes + " bytes, longer than the maximum of " + (MachineLayout.CMDLINE_MAX - 1));
        }
        if (value.indexOf('\0') >= 0) {
            throw error(where, "contains a NUL character");
        }
        return value;
    }

    static String tap(String where, String value) throws ConfigException {
        if (value.isEmpty()) {
            throw error(where, "must not be empty");
        }
        if (value.length() > MAX_TAP_NAME) {
            throw error(where, quote(value) + " is longer than " + MAX_TAP_NAME + " characters");
        }
        // The rules of the kernel's dev_valid_name(), plus ASCII only to keep ioctl encoding trivial.
        if (value.equals(".") || value.equals("..") || !value.chars().allMatch(c -> c > ' ' && c < 0x7F && c != '/' && c != ':')) {
            throw error(where, quote(value) + " is not a valid interface name");
        }
        return value;
    }

    static MacAddress mac(String where, String value) throws ConfigException {
        MacAddress mac;
        try {
            mac = MacAddress.parse(value);
        } catch (IllegalArgumentException e) {
            throw error(where, quote(value) + " is not a MAC address (use e.g. 52:54:00:12:34:56)");
        }
        if (mac.isMulticast()) {
            throw error(where, mac + " is a multicast address (the first octet must be even)");
        }
        if (mac.bits() == 0) {
            throw error(where, mac + " is not a usable address");
        }
        return mac;
    }

    private static Path resolve(String where, String value, Path baseDir) throws ConfigException {
        if (value.isEmpty()) {
            throw error(where, "must not be empty");
        }
        try {
            String expanded = value.startsWith("~/") ? System.getProperty("user.home") + value.substring(1) : value;
            return baseDir.toAbsolutePath().resolve(expanded).normalize();
        } catch (InvalidPathException e) {
            throw error(where, quote(value) + " is not a valid path");
        }
    }

    static String quote(String s) {
        return "\"" + s + "\"";
    }
}
