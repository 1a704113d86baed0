package io.jremus.cli.image;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Stands in for apt-cache, apt-get and dpkg-deb: answers queries for one kernel and one
 * busybox version, "downloads" placeholder .debs and "unpacks" a synthetic kernel package
 * (fake bzImage, fake modules with real .modinfo dependencies) and a fake busybox.
 * Records every command so tests can assert what was (not) run.
 */
final class FakeApt implements CommandRunner {
    static final String KERNEL_PKG = "linux-image-9.9.0-1-amd64";
    static final String RELEASE = "9.9.0-1-amd64";

    final List<String> commands = new ArrayList<>();
    String kernelVersion = "9.9.1-1";
    String busyboxVersion = "1:1.35.0-4+b1";
    boolean knowsPackages = true;
    boolean knowsPackagesAfterUpdate = true;
    int downloadExit = 0;

    @Override
    public Result run(List<String> command, Path workDir) {
        String line = String.join(" ", command);
        commands.add(line);
        try {
            return switch (command.get(0) + " " + command.get(1)) {
                case "apt-cache depends" -> knowsPackages
                        ? ok("linux-image-amd64\n  Depends: " + KERNEL_PKG + "\n")
                        : new Result(100, "", "E: No packages found\n");
                case "apt-cache policy" -> {
                    StringBuilder out = new StringBuilder();
                    for (String pkg : command.subList(2, command.size())) {
                        out.append(pkg).append(":\n  Installed: (none)\n  Candidate: ")
                                .append(!knowsPackages ? "(none)" : pkg.startsWith("busybox") ? busyboxVersion : kernelVersion)
                                .append("\n  Version table:\n     ").append(kernelVersion).append(" 500\n");
                    }
                    yield ok(out.toString());
                }
                case "apt-cache show" -> ok("Package: x\nSize: 1234567\n");
                case "apt-get update" -> {
                    knowsPackages = knowsPackagesAfterUpdate;
                    yield ok("Reading package lists...\n");
                }
                case "apt-get download" -> {
                    if (downloadExit != 0) {
                        yield new Result(downloadExit, "", "Err:1 http://deb.debian.org x\nE: Failed to fetch x  404  Not Found\n");
                    }
                    String[] pv = command.get(2).split("=", 2);
                    Files.writeString(workDir.resolve(pv[0] + "_" + pv[1].replace(":", "%3a") + "_amd64.deb"), "fake deb");
                    yield ok("");
                }
                case "dpkg-deb -x" -> {
                    unpack(Path.of(command.get(2)), Path.of(command.get(3)));
                    yield ok("");
                }
                default -> throw new AssertionError("unexpected command: " + line);
            };
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    boolean ran(String prefix) {
        return commands.stream().anyMatch(c -> c.startsWith(prefix));
    }

    private static Result ok(String stdout) {
        return new Result(0, stdout, "");
    }

    static final byte[] VMLINUX = FakeElf.withNote("Xen", Elf64.XEN_ELFNOTE_PHYS32_ENTRY, FakeElf.pvhDesc(0x1000850), 5000);

    private static void unpack(Path deb, Path root) throws IOException {
        if (deb.getFileName().toString().startsWith("busybox")) {
            Files.createDirectories(root.resolve("bin"));
            Files.writeString(root.resolve("bin/busybox"), "fake static busybox");
            return;
        }
        Files.createDirectories(root.resolve("boot"));
        Files.write(root.resolve("boot/vmlinuz-" + RELEASE),
                FakeBzImage.build(FakeBzImage.xz(VMLINUX), VMLINUX.length, 0x020F));
        Path mods = root.resolve("lib/modules/" + RELEASE);
        String[][] modules = {
                {"drivers/virtio/virtio.ko", "virtio", ""},
                {"drivers/virtio/virtio_ring.ko", "virtio_ring", ""},
                {"drivers/virtio/virtio_mmio.ko", "virtio_mmio", "virtio,virtio_ring"},
                {"drivers/virtio/virtio_pci.ko", "virtio_pci", "virtio,virtio_ring"},
                {"drivers/net/virtio_net.ko", "virtio_net", "virtio,virtio_ring"},
                {"drivers/block/virtio_blk.ko", "virtio_blk", "virtio,virtio_ring"},
                {"crypto/crc32c_generic.ko", "crc32c_generic", ""},
                {"fs/ext4/ext4.ko", "ext4", "jbd2"},
                {"fs/jbd2/jbd2.ko", "jbd2", ""},
        };
        for (String[] m : modules) {
            Path p = mods.resolve("kernel").resolve(m[0]);
            Files.createDirectories(p.getParent());
            Files.write(p, FakeElf.module("depends=" + m[2], "name=" + m[1]));
        }
        Files.writeString(mods.resolve("modules.builtin"), "kernel/fs/mbcache.ko\n");
    }
}
