package io.jremus.cli.image;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Runs the external tools the image builders need (apt-cache, apt-get, dpkg-deb, make). An
 * interface so tests can stand in for apt and prove, for example, that a cached image is
 * reused without downloading anything.
 */
@FunctionalInterface
public interface CommandRunner {

    /** What a finished command printed. Output is kept whole: these tools print little. */
    record Result(int exitCode, String stdout, String stderr) {
        /** The last non-blank line of stderr (or stdout if stderr is empty): usually the reason. */
        public String lastErrorLine() {
            for (String text : List.of(stderr, stdout)) {
                List<String> lines = text.lines().filter(l -> !l.isBlank()).toList();
                if (!lines.isEmpty()) {
                    return lines.getLast().strip();
                }
            }
            return "no output";
        }
    }

    /**
     * Runs {@code command} in {@code workDir} and waits for it. A command that cannot be
     * started at all is an {@link ImageBuildException}; a non-zero exit is returned, not thrown.
     */
    Result run(List<String> command, Path workDir) throws ImageBuildException;

    /** Runs the command and fails with {@code "<command>" failed (exit N): <last line of stderr>} unless it exits 0. */
    default String runChecked(List<String> command, Path workDir) throws ImageBuildException {
        Result r = run(command, workDir);
        if (r.exitCode() != 0) {
            throw new ImageBuildException("'" + String.join(" ", command) + "' failed (exit " + r.exitCode()
                    + "): " + r.lastErrorLine());
        }
        return r.stdout();
    }

    /** The real thing: a child process with the C locale, so tool output parses the same everywhere. */
    static CommandRunner processes() {
        return (command, workDir) -> {
            ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile());
            pb.environment().put("LC_ALL", "C");
            pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
            Process p;
            try {
                p = pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            } catch (IOException e) {
                throw new ImageBuildException("cannot run '" + command.getFirst() + "' (is it installed?): " + e.getMessage(), e);
            }
            // Drain both pipes concurrently: a tool that fills one while we block on the other hangs.
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
            String out = readAll(p.getInputStream());
            try {
                return new Result(p.waitFor(), out, err.join());
            } catch (InterruptedException e) {
                p.destroy();
                Thread.currentThread().interrupt();
                throw new ImageBuildException("interrupted while running '" + String.join(" ", command) + "'", e);
            }
        };
    }

    private static String readAll(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
