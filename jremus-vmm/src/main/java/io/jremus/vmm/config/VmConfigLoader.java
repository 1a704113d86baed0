package io.jremus.vmm.config;

import io.jremus.vmm.net.MacAddress;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import io.jremus.vmm.MachineLayout;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads a VM's TOML file into a {@link VmConfig}, checking every value and every key.
 *
 * <pre>
 * name    = "web"                    # default: the file name without .toml
 * memory  = "512M"                   # or 512 (MiB); default 256 MiB
 * vcpus   = 2                        # default 1
 * kernel  = "images/vmlinux"         # required; relative to this file's directory
 * initrd  = "images/initramfs.cpio.gz"
 * cmdline = "console=ttyS0"
 * serial  = "stdout"                 # "stdout", "none" or a file path
 *
 * [[net]]
 * tap    = "tap0"
 * mac    = "52:54:00:12:34:56"       # default: derived from the VM name
 * create = true
 *
 * [[disk]]
 * path     = "data.img"
 * readonly = false
 * </pre>
 *
 * Unknown keys are errors, since a misspelt optional key would otherwise be silently ignored.
 * The first problem found ends the load with a one-line {@link ConfigException}.
 */
public final class VmConfigLoader {
    private static final TomlMapper TOML = new TomlMapper();

    private static final List<String> TOP_KEYS =
            List.of("name", "memory", "vcpus", "kernel", "initrd", "cmdline", "serial", "net", "disk");
    private static final List<String> NET_KEYS = List.of("tap", "mac", "create");
    private static final List<String> DISK_KEYS = List.of("path", "readonly");

    private VmConfigLoader() {
    }

    /** Loads {@code file}; errors are prefixed with the path as given. */
    public static VmConfig load(Path file) throws ConfigException {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": config file does not exist");
        } catch (CharacterCodingException e) {
            throw new ConfigException(file + ": is not UTF-8 text");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage());
        }
        Path dir = file.toAbsolutePath().getParent();
        return parse(text, dir, file.toString());
    }

    /** Parses TOML text as if read from a file named {@code vm.toml} in {@code baseDir}. */
    public static VmConfig parse(String toml, Path baseDir) throws ConfigException {
        return parse(toml, baseDir, "vm.toml");
    }

    /**
     * Parses TOML text. {@code source} prefixes every error message; its file name without
     * {@code .toml} is the default VM name. Relative paths resolve against {@code baseDir}.
     */
    public static VmConfig parse(String toml, Path baseDir, String source) throws ConfigException {
        Table top = new Table(source, "", readToml(toml, source), TOP_KEYS);

        String defaultName = Path.of(source).getFileName().toString().replaceFirst("\\.toml$", "");
        String name = ConfigRules.name(top.where("name"), top.string("name").orElse(defaultName));

        long memory = VmConfig.DEFAULT_MEMORY;
        JsonNode mem = top.node("memory");
        if (mem != null) {
            if (mem.isIntegralNumber()) {
                memory = ConfigRules.memoryMib(top.where("memory"), mem.asLong());
            } else if (mem.isTextual()) {
                memory = ConfigRules.memory(top.where("memory"), mem.textValue());
            } else {
                throw top.error("memory", "expected a size like \"256M\" or a number of MiB, got " + mem);
            }
        }
        int vcpus = ConfigRules.vcpus(top.where("vcpus"), top.integer("vcpus").orElse((long) VmConfig.DEFAULT_VCPUS));
        String kernelPath = top.string("kernel")
                .orElseThrow(() -> top.error("kernel", "required (the path of the guest kernel)"));
        Path kernel = ConfigRules.readableFile(top.where("kernel"), kernelPath, baseDir);
        Optional<Path> initrd = Optional.empty();
        if (top.string("initrd").isPresent()) {
            initrd = Optional.of(ConfigRules.readableFile(top.where("initrd"), top.string("initrd").get(), baseDir));
        }
        String cmdline = ConfigRules.cmdline(top.where("cmdline"), top.string("cmdline").orElse(""));
        SerialConfig serial = ConfigRules.serial(top.where("serial"), top.string("serial").orElse("stdout"), baseDir);

        List<NetConfig> nets = nets(top, name);
        List<DiskConfig> disks = disks(top, baseDir);
        int devices = nets.size() + disks.size();
        if (devices > MachineLayout.VIRTIO_MMIO_MAX_DEVICES) {
            throw new ConfigException(source + ": net, disk: " + devices + " devices, but at most "
                    + MachineLayout.VIRTIO_MMIO_MAX_DEVICES + " fit (virtio-mmio slots)");
        }
        return new VmConfig(name, memory, vcpus, kernel, initrd, cmdline, serial, nets, disks);
    }

    /**
     * A config from command-line flags alone, for running a VM without a file. The kernel flag
     * is required; everything else has the file format's defaults.
     */
    public static VmConfig fromFlags(ConfigOverrides flags, Path workingDir) throws ConfigException {
        if (flags.kernel() == null) {
            throw new ConfigException("--kernel: required when no config file is given");
        }
        Path kernel = ConfigRules.readableFile("--kernel", flags.kernel(), workingDir);
        VmConfig defaults = new VmConfig("vm", VmConfig.DEFAULT_MEMORY, VmConfig.DEFAULT_VCPUS, kernel,
                Optional.empty(), "", new SerialConfig.Stdout(), List.of(), List.of());
        return defaults.withOverrides(flags, workingDir);
    }

    private static ObjectNode readToml(String toml, String source) throws ConfigException {
        try {
            JsonNode root = TOML.readTree(toml);
            // An empty document reads as a missing node; treat it as an empty table so the
            // error is the helpful "kernel: required".
            return root instanceof ObjectNode o ? o : TOML.createObjectNode();
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String line = at != null && at.getLineNr() > 0 ? "line " + at.getLineNr() + ": " : "";
            throw new ConfigException(source + ": " + line + "invalid TOML: " + e.getOriginalMessage());
        }
    }

    private static List<NetConfig> nets(Table top, String vmName) throws ConfigException {
        List<NetConfig> nets = new ArrayList<>();
        Map<String, String> tapOwner = new HashMap<>();
        Map<MacAddress, String> macOwner = new HashMap<>();
        for (Table t : top.tables("net", NET_KEYS)) {
            String tap = ConfigRules.tap(t.where("tap"),
                    t.string("tap").orElseThrow(() -> t.error("tap", "required (the name of the host TAP device)")));
            // Derived from name and position so that primary and backup agree without a MAC in the file.
            MacAddress mac = t.string("mac").isPresent()
                    ? ConfigRules.mac(t.where("mac"), t.string("mac").get())
                    : MacAddress.derived(vmName + "/net/" + nets.size());
            boolean create = t.bool("create", false);
            String previous = tapOwner.putIfAbsent(tap, t.path);
            if (previous != null) {
                throw t.error("tap", ConfigRules.quote(tap) + " is already used by " + previous);
            }
            previous = macOwner.putIfAbsent(mac, t.path);
            if (previous != null) {
                throw t.error("mac", mac + " is already used by " + previous);
            }
            nets.add(new NetConfig(tap, mac, create));
        }
        return nets;
    }

    private static List<DiskConfig> disks(Table top, Path baseDir) throws ConfigException {
        List<DiskConfig> disks = new ArrayList<>();
        Map<Path, String> owner = new HashMap<>();
        for (Table t : top.tables("disk", DISK_KEYS)) {
            boolean readonly = t.bool("readonly", false);
            String raw = t.string("path").orElseThrow(() -> t.error("path", "required (the disk image file)"));
            Path path = ConfigRules.diskImage(t.where("path"), raw, baseDir, readonly);
            // Two virtio-blk devices on one file would corrupt it, and break disk replication.
            String previous = owner.putIfAbsent(path, t.path);
            if (previous != null) {
                throw t.error("path", path + " is already used by " + previous);
            }
            disks.add(new DiskConfig(path, readonly));
        }
        return disks;
    }

    /**
     * One TOML table with its position for messages ({@code path} is "" for the top level,
     * {@code net[0]} for the first [[net]]). The constructor rejects keys not in {@code allowed}.
     */
    private static final class Table {
        final String source;
        final String path;
        final ObjectNode node;

        Table(String source, String path, ObjectNode node, List<String> allowed) throws ConfigException {
            this.source = source;
            this.path = path;
            this.node = node;
            for (Map.Entry<String, JsonNode> property : node.properties()) {
                String key = property.getKey();
                if (!allowed.contains(key)) {
                    String hint = KeySuggestion.nearest(key, allowed).map(k -> " (did you mean \"" + k + "\"?)")
                            .orElse(" (known keys: " + String.join(", ", allowed) + ")");
                    String at = path.isEmpty() ? "" : path + ": ";
                    throw new ConfigException(source + ": " + at + "unknown key \"" + key + "\"" + hint);
                }
            }
        }

        String where(String key) {
            return source + ": " + (path.isEmpty() ? key : path + "." + key);
        }

        ConfigException error(String key, String problem) {
            return ConfigRules.error(where(key), problem);
        }

        JsonNode node(String key) {
            return node.get(key);
        }

        Optional<String> string(String key) throws ConfigException {
            JsonNode v = node.get(key);
            if (v == null) {
                return Optional.empty();
            }
            if (!v.isTextual()) {
                throw error(key, "expected a string, got " + v);
            }
            return Optional.of(v.textValue());
        }

        Optional<Long> integer(String key) throws ConfigException {
            JsonNode v = node.get(key);
            if (v == null) {
                return Optional.empty();
            }
            if (!v.isIntegralNumber() || !v.canConvertToLong()) {
                throw error(key, "expected an integer, got " + v);
            }
            return Optional.of(v.asLong());
        }

        boolean bool(String key, boolean dflt) throws ConfigException {
            JsonNode v = node.get(key);
            if (v == null) {
                return dflt;
            }
            if (!v.isBoolean()) {
                throw error(key, "expected true or false, got " + v);
            }
            return v.booleanValue();
        }

        /** The {@code [[key]]} array of tables; a single {@code [key]} table is a mistake worth naming. */
        List<Table> tables(String key, List<String> allowed) throws ConfigException {
            JsonNode v = node.get(key);
            if (v == null) {
                return List.of();
            }
            if (v.isObject()) {
                throw error(key, "write [[" + key + "]] (an array of tables), not [" + key + "]");
            }
            if (!v.isArray()) {
                throw error(key, "expected [[" + key + "]] tables, got " + v);
            }
            List<Table> out = new ArrayList<>();
            for (int i = 0; i < v.size(); i++) {
                String at = key + "[" + i + "]";
                if (!(v.get(i) instanceof ObjectNode o)) {
                    throw new ConfigException(source + ": " + at + ": expected a table, got " + v.get(i));
                }
                out.add(new Table(source, at, o, allowed));
            }
            return out;
        }
    }
}
