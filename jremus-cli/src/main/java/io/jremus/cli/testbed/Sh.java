package io.jremus.cli.testbed;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs short host commands (iproute2) and returns their status and output (stdout and stderr
 * together). Public for the cluster harness ({@code io.jremus.cli.cluster}).
 */
public final class Sh {
    private Sh() {
    }

    public record Result(int status, String output) {
        public boolean ok() {
            return status == 0;
        }
    }

    public static Result run(long timeoutSeconds, List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
            return new Result(-1, new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8) + "\n(timed out)");
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    public static Result ip(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        return run(30, cmd);
    }

    /** Runs {@code ip ARGS} and throws with the command and its output if it fails. */
    public static void ipOrThrow(String... args) throws IOException, InterruptedException {
        Result r = ip(args);
        if (!r.ok()) throw new IOException("ip " + String.join(" ", args) + " failed: " + r.output().strip());
    }
}
