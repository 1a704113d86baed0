package io.jremus.cli.image;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Numbered progress lines on the console, {@code [2/5] extracting vmlinux from vmlinuz (8.2 MB, xz)...},
 * so a user waiting on a 70 MB download knows what is happening. Not a logger: these lines are
 * the command's output.
 */
public final class Progress {
    private final PrintStream out;
    private final int steps;
    private int step;

    public Progress(PrintStream out, int steps) {
        this.out = out;
        this.steps = steps;
    }

    /** A console that prints nothing, for tests and library use. */
    public static Progress silent() {
        return new Progress(new PrintStream(PrintStream.nullOutputStream()), 1);
    }

    /** Starts the next numbered step. */
    public void step(String what) {
        step++;
        out.println("[" + step + "/" + steps + "] " + what + "...");
        out.flush();
    }

    /** A line that is not a step: a result or a note. */
    public void info(String line) {
        out.println(line);
        out.flush();
    }

    /** {@code 8.2 MB}: decimal megabytes, one decimal, the way download sizes are usually shown. */
    public static String megabytes(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }
}
