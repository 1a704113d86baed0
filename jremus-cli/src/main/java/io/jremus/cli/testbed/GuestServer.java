package io.jremus.cli.testbed;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The test guest serving on the testbed's segment, in a VMM process of its own started inside
 * the host namespace (where the TAP is): jremus ({@code ./jremus run}) or, as the side-by-side
 * reference, QEMU ({@code -M microvm}, the same ELF, the same TAP, the same MAC). The guest
 * console goes to a file that callers poll. The process is killed by its PID only.
 */
public final class GuestServer implements AutoCloseable {
    /** Which VMM runs the guest. */
    public enum Vmm { JREMUS, QEMU }

    public static final String GUEST_MAC = "52:54:00:77:00:02";

    private final Process process;
    private final Path serial;
    private final Path log;

    /**
     * Wraps a VMM process started elsewhere (e.g. {@code jremus snapshot restore}) whose guest
     * console goes to {@code serial}, so tests can follow it the same way.
     */
    public static GuestServer adopt(Process process, Path serial, Path log) {
        return new GuestServer(process, serial, log);
    }

    private GuestServer(Process process, Path serial, Path log) {
        this.process = process;
        this.serial = serial;
        this.log = log;
    }

    /**
     * Starts the guest with one NIC on the testbed's TAP and, if {@code disk} is not null, that
     * raw image as its disk.
     *
     * @param jremusHome the repository (for the launcher); guestElf the test guest
     * @param guestArgs  extra guest command-line words (the IP configuration is added here)
     */
    public static GuestServer start(Vmm vmm, NetTestbed bed, Path jremusHome, Path guestElf, Path dir, String name,
                                    String guestArgs, Path disk) throws IOException {
        return start(vmm, bed, jremusHome, guestElf, dir, name, guestArgs, disk, List.of());
    }

    /** As above, with extra options for {@code jremus run} (e.g. {@code --control SOCKET}); ignored for QEMU. */
    public static GuestServer start(Vmm vmm, NetTestbed bed, Path jremusHome, Path guestElf, Path dir, String name,
                                    String guestArgs, Path disk, List<String> runOptions) throws IOException {
        Path serial = dir.resolve(name + ".serial");
        Path log = dir.resolve(name + ".log");
        Files.deleteIfExists(serial);
        String cmdline = "ip=" + NetTestbed.GUEST_IP + "/24 gw=" + NetTestbed.HOST_IP + " cpus=1 " + guestArgs;
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", bed.hostNs()));
        if (vmm == Vmm.JREMUS) {
            StringBuilder toml = new StringBuilder()
                    .append("name = \"").append(name).append("\"\n")
                    .append("memory = \"256M\"\nvcpus = 1\n")
                    .append("kernel = \"").append(guestElf).append("\"\n")
                    .append("cmdline = \"").append(cmdline).append("\"\n")
                    .append("serial = \"").append(serial).append("\"\n")
                    .append("[[net]]\ntap = \"").append(NetTestbed.TAP).append("\"\nmac = \"").append(GUEST_MAC).append("\"\n");
            if (disk != null) toml.append("[[disk]]\npath = \"").append(disk).append("\"\n");
            Path cfg = Files.writeString(dir.resolve(name + ".toml"), toml);
            cmd.addAll(List.of(jremusHome.resolve("jremus").toString(), "run"));
            cmd.addAll(runOptions);
            cmd.add(cfg.toString());
        } else {
            cmd.addAll(List.of("qemu-system-x86_64", "-M", "microvm,acpi=off", "-enable-kvm", "-cpu", "host,-arch-capabilities",
                    "-m", "256M", "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none",
                    "-serial", "file:" + serial, "-global", "virtio-mmio.force-legacy=false",
                    "-netdev", "tap,id=n0,ifname=" + NetTestbed.TAP + ",script=no,downscript=no,vnet_hdr=on",
                    "-device", "virtio-net-device,netdev=n0,mac=" + GUEST_MAC,
                    "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
                    "-kernel", guestElf.toString(), "-append", cmdline));
            if (disk != null) {
                cmd.addAll(List.of("-drive", "file=" + disk + ",format=raw,if=none,id=d0", "-device", "virtio-blk-device,drive=d0"));
            }
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new GuestServer(p, serial, log);
    }

    /** Waits for a console line matching {@code p}; fails with the console and VMM log otherwise. */
    public String awaitConsole(Predicate<String> p, long timeoutSeconds) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (System.nanoTime() < deadline) {
            if (Files.exists(serial)) {
                for (String l : Files.readAllLines(serial, StandardCharsets.ISO_8859_1)) if (p.test(l)) return l;
            }
            if (!process.isAlive()) break;
            Thread.sleep(100);
        }
        throw new IllegalStateException("no matching console line; VMM " + (process.isAlive() ? "running" : "exited " + process.exitValue())
                + "\n--- console ---\n" + console() + "\n--- vmm log ---\n" + vmmLog());
    }

    public String console() throws IOException {
        return Files.exists(serial) ? Files.readString(serial, StandardCharsets.ISO_8859_1) : "";
    }

    public String vmmLog() throws IOException {
        return Files.exists(log) ? Files.readString(log, StandardCharsets.ISO_8859_1) : "";
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    /** SIGKILL, as a crash of the host would end it; waits until the process is gone. */
    public void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) kill9();
    }
}
