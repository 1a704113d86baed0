package io.jremus.vmm.net;

import io.jremus.sys.Libc;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A throw-away network namespace for one test, made with {@code ip netns add jremus-t-<random>}
 * and removed by {@link #close()} (which also removes every interface in it, TAPs included).
 * Tests that use it are skipped, saying why, when not root or when {@code ip netns} does not work.
 * Only the addresses the test assigns inside the namespace are ever used.
 */
public final class TestNamespace implements AutoCloseable {
    public final String name = "jremus-t-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000000, 0x7fffffff));
    private boolean created;

    /** Skips the calling test unless we are root and {@code ip netns add} works. */
    public static TestNamespace createOrSkip() {
        Assumptions.assumeTrue(Libc.geteuid() == 0, "needs root (network namespaces and TAP devices)");
        TestNamespace ns = new TestNamespace();
        Result r = run("ip", "netns", "add", ns.name);
        Assumptions.assumeTrue(r.code == 0, "ip netns add failed, skipping: " + r.output);
        ns.created = true;
        return ns;
    }

    /** Runs {@code ip -n <ns> args...}, failing the test on a non-zero exit. */
    public void ip(String... args) {
        List<String> cmd = new ArrayList<>(List.of("ip", "-n", name));
        cmd.addAll(List.of(args));
        Result r = run(cmd.toArray(String[]::new));
        if (r.code != 0) throw new AssertionError(String.join(" ", cmd) + " failed (" + r.code + "): " + r.output);
    }

    public record Result(int code, String output) {
    }

    /** Runs a command we start ourselves, with a timeout; kills only that process on timeout. */
    public static Result run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, String.join(" ", cmd) + ": timed out");
            }
            return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim());
        } catch (IOException e) {
            return new Result(-1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "interrupted");
        }
    }

    @Override
    public void close() {
        if (!created) return;
        created = false;
        Result r = run("ip", "netns", "del", name);
        if (r.code != 0) System.err.println("warning: could not delete namespace " + name + ": " + r.output);
    }
}
