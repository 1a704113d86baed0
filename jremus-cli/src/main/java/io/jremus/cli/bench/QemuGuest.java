package io.jremus.cli.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Runs the same guest ELF under QEMU ({@code -M microvm}, KVM, PVH {@code -kernel}) as the
 * side-by-side reference for benchmarks and tests. QEMU's isa-debug-exit turns the guest's
 * power-off status {@code v} into exit status {@code (v << 1) | 1}.
 */
public final class QemuGuest {
    public static final String BINARY = "qemu-system-x86_64";

    /** What a run produced: serial lines with their arrival time, and the exit status. */
    public record Result(List<String> lines, List<Long> lineNanos, long startNanos, int exitStatus, boolean timedOut) {
        /** Nanoseconds from process start until the first line matching {@code p}, or -1. */
        public long nanosUntil(Predicate<String> p) {
            for (int i = 0; i < lines.size(); i++) if (p.test(lines.get(i))) return lineNanos.get(i) - startNanos;
            return -1;
        }

        public String firstMatching(Predicate<String> p) {
            for (String l : lines) if (p.test(l)) return l;
            return null;
        }

        /** The status the guest passed to its power-off port. */
        public int guestStatus() {
            return (exitStatus & 1) == 1 ? exitStatus >> 1 : -1;
        }
    }

    public static boolean available() {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            if (Files.isExecutable(Path.of(d, BINARY))) return true;
        }
        return false;
    }

    public static List<String> command(Path kernel, long memMib, int vcpus, String cmdline) {
        return List.of(BINARY, "-M", "microvm", "-enable-kvm", "-cpu", "host,-arch-capabilities",
                "-m", memMib + "M", "-smp", String.valueOf(vcpus), "-display", "none", "-nodefaults", "-no-user-config",
                "-serial", "stdio", "-kernel", kernel.toString(), "-append", cmdline,
                "-device", "isa-debug-exit,iobase=0xf4,iosize=4");
    }

    /** Runs QEMU until it exits or {@code timeoutSeconds} pass (then it is killed, by PID). */
    public static Result run(Path kernel, long memMib, int vcpus, String cmdline, long timeoutSeconds) throws IOException, InterruptedException {
        long start = System.nanoTime();
        Process p = new ProcessBuilder(command(kernel, memMib, vcpus, cmdline)).redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>();
        List<Long> times = new ArrayList<>();
        Thread reader = Thread.ofPlatform().daemon(true).start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    long t = System.nanoTime();
                    synchronized (lines) {
                        lines.add(line);
                        times.add(t);
                    }
                }
            } catch (IOException ignored) {
                // process ended
            }
        });
        boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
        reader.join(2000);
        synchronized (lines) {
            return new Result(List.copyOf(lines), List.copyOf(times), start, done ? p.exitValue() : -1, !done);
        }
    }
}
