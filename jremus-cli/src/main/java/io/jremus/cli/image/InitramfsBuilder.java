package io.jremus.cli.image;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/**
 * Lays out the Linux guest's initramfs and writes it as gzip-compressed newc cpio:
 * <pre>
 *   /init                 {@link InitScript}
 *   /bin/busybox          busybox-static, plus symlinks for the applets /init calls
 *   /lib/modules/*.ko     the modules, uncompressed, flat (the script loads them by file name)
 *   /dev/console          char 5:1, so the kernel has a console for /init before devtmpfs
 *   /proc /sys /tmp /root /data   mount points and scratch
 * </pre>
 * gzip because Debian's kernel has every RD_* decompressor and gzip is the one the JDK writes.
 */
final class InitramfsBuilder {
    private InitramfsBuilder() {
    }

    /** Writes the archive to {@code out} and returns its size in bytes. */
    static long write(Path out, byte[] busybox, List<KernelModules.Module> modules) throws IOException {
        try (OutputStream file = Files.newOutputStream(out);
             GZIPOutputStream gz = new GZIPOutputStream(file, 1 << 16)) {
            CpioNewcWriter cpio = new CpioNewcWriter(gz);
            for (String dir : List.of("bin", "dev", "proc", "sys", "tmp", "root", "data", "lib", "lib/modules")) {
                cpio.directory(dir, dir.equals("tmp") ? 01777 : 0755);
            }
            cpio.charDevice("dev/console", 0600, 5, 1);
            cpio.charDevice("dev/null", 0666, 1, 3);
            cpio.file("bin/busybox", 0755, busybox);
            for (String applet : InitScript.APPLETS) {
                cpio.symlink("bin/" + applet, "busybox");
            }
            for (KernelModules.Module m : modules) {
                cpio.file("lib/modules/" + m.fileName(), 0644, m.elf());
            }
            List<String> names = modules.stream().map(KernelModules.Module::fileName).toList();
            cpio.file("init", 0755, InitScript.render(names).getBytes(StandardCharsets.UTF_8));
            cpio.finish();
        }
        return Files.size(out);
    }
}
