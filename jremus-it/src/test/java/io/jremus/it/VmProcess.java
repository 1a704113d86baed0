package io.jremus.it;

import io.jremus.cli.testbed.NetTestbed;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A VMM in its own process ({@code ./jremus run}), started inside the testbed's host namespace
 * so that it can open the TAP there, with the guest console in a file the test polls. The
 * process can be killed with SIGKILL, as a host crash would, and is always killed by PID on
 * {@link #close}.
 */
public final class VmProcess implements AutoCloseable {
    private final Process process;
    private final Path serial;
    private final Path log;

    private VmProcess(Process process, Path serial, Path log) {
        this.process = process;
        this.serial = serial;
        this.log = log;
    }

    /**
     * Starts the test guest with one NIC on the testbed's TAP and, if {@code disk} is not null,
     * that raw image as its disk.
     */
    public static VmProcess start(NetTestbed bed, Path dir, String name, String guestArgs, Path disk) throws IOException {
        Path serial = dir.resolve(name + ".serial");
        Path log = dir.resolve(name + ".log");
        Files.deleteIfExists(serial);
        StringBuilder toml = new StringBuilder();
        toml.append("name = \"").append(name).append("\"\n")
                .append("memory = \"256M\"\nvcpus = 1\n")
                .append("kernel = \"").append(TestGuest.elf()).append("\"\n")
                .append("cmdline = \"ip=").append(NetTestbed.GUEST_IP).append("/24 gw=").append(NetTestbed.HOST_IP)
                .append(" cpus=1 ").append(guestArgs).append("\"\n")
                .append("serial = \"").append(serial).append("\"\n")
                .append("[[net]]\ntap = \"").append(NetTestbed.TAP).append("\"\nmac = \"52:54:00:77:00:02\"\n");
        if (disk != null) toml.append("[[disk]]\npath = \"").append(disk).append("\"\n");
        Path cfg = Files.writeString(dir.resolve(name + ".toml"), toml);
        Process p = new ProcessBuilder(List.of("ip", "netns", "exec", bed.hostNs(),
                TestGuest.repoRoot().resolve("jremus").toString(), "run", cfg.toString()))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new VmProcess(p, serial, log);
    }

    /** Waits until the guest console has a line matching {@code p}; returns it, or fails with the console. */
    public String awaitConsole(Predicate<String> p, long timeoutSeconds) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (System.nanoTime() < deadline) {
            if (Files.exists(serial)) {
                for (String l : Files.readAllLines(serial, StandardCharsets.UTF_8)) if (p.test(l)) return l;
            }
            if (!process.isAlive()) break;
            Thread.sleep(100);
        }
        throw new AssertionError("no matching console line; VMM " + (process.isAlive() ? "running" : "exited " + process.exitValue())
                + "\n--- console ---\n" + console() + "\n--- vmm log ---\n" + vmmLog());
    }

    public String console() throws IOException {
        return Files.exists(serial) ? Files.readString(serial) : "";
    }

    public String vmmLog() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    /** SIGKILL, as a crash of the host would end it; waits for the process to be gone. */
    public void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) kill9();
    }
}
