package io.jremus.vmm.snapshot.format;

import io.jremus.vmm.config.DiskConfig;
import io.jremus.vmm.config.NetConfig;
import io.jremus.vmm.config.SerialConfig;
import io.jremus.vmm.config.VmConfig;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The VM config written into a snapshot (the CONFIG record), and the digest of the machine
 * shape that a restoring config must match (the HEADER's config digest).
 *
 * <p>The digest covers what the saved state depends on: memory size, vCPU count, and each
 * virtio slot (disk: read-only flag; NIC: MAC). It leaves out what may legitimately differ on
 * restore: the name, kernel, command line (the kernel is not booted again), the serial sink,
 * disk paths and TAP names (a restore on another host attaches other backends).
 */
public final class ConfigToml {
    private ConfigToml() {
    }

    /** The config as a TOML document {@code VmConfigLoader.parse} reads back (paths absolute). */
    public static String render(VmConfig c) {
        StringBuilder sb = new StringBuilder();
        sb.append("# written by jremus into a snapshot\n");
        sb.append("name = ").append(str(c.name())).append('\n');
        sb.append("memory = ").append(c.memoryMib()).append('\n');
        sb.append("vcpus = ").append(c.vcpus()).append('\n');
        sb.append("kernel = ").append(str(c.kernel().toString())).append('\n');
        c.initrd().ifPresent(p -> sb.append("initrd = ").append(str(p.toString())).append('\n'));
        sb.append("cmdline = ").append(str(c.cmdline())).append('\n');
        String serial = switch (c.serial()) {
            case SerialConfig.Stdout s -> "stdout";
            case SerialConfig.None n -> "none";
            case SerialConfig.ToFile f -> f.path().toString();
        };
        sb.append("serial = ").append(str(serial)).append('\n');
        for (NetConfig n : c.nets()) {
            sb.append("\n[[net]]\ntap = ").append(str(n.tap())).append("\nmac = ").append(str(n.mac().toString()))
                    .append("\ncreate = ").append(n.create()).append('\n');
        }
        for (DiskConfig d : c.disks()) {
            sb.append("\n[[disk]]\npath = ").append(str(d.path().toString())).append("\nreadonly = ").append(d.readonly()).append('\n');
        }
        return sb.toString();
    }

    /** The machine shape, in words (also what {@link #digest} hashes). */
    public static String shape(VmConfig c) {
        StringBuilder sb = new StringBuilder("memory=").append(c.memoryBytes()).append(" vcpus=").append(c.vcpus());
        for (DiskConfig d : c.disks()) sb.append(" disk(").append(d.readonly() ? "ro" : "rw").append(')');
        for (NetConfig n : c.nets()) sb.append(" net(").append(n.mac()).append(')');
        return sb.toString();
    }

    public static byte[] digest(VmConfig c) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(shape(c).getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String str(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (ch < 0x20) sb.append(String.format("\\u%04x", (int) ch));
                    else sb.append(ch);
                }
            }
        }
        return sb.append('"').toString();
    }
}
