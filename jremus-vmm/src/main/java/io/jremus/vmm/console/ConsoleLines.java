package io.jremus.vmm.console;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * An output stream that splits the guest console into lines, stamps each with its arrival time
 * and lets another thread wait for a line that matches. Used by tests, benchmarks and the demo
 * to follow a guest through its serial port.
 */
public final class ConsoleLines extends OutputStream {
    /** A console line and when it was complete ({@link System#nanoTime()}). */
    public record Line(String text, long nanos) {
    }

    private final ByteArrayOutputStream current = new ByteArrayOutputStream();
    private final List<Line> lines = new ArrayList<>();

    @Override
    public synchronized void write(int b) {
        if (b == '\n') {
            String s = current.toString(StandardCharsets.UTF_8);
            if (s.endsWith("\r")) s = s.substring(0, s.length() - 1);
            lines.add(new Line(s, System.nanoTime()));
            current.reset();
            notifyAll();
        } else {
            current.write(b);
        }
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
        for (int i = 0; i < len; i++) write(b[off + i]);
    }

    public synchronized List<Line> lines() {
        return List.copyOf(lines);
    }

    public synchronized List<String> texts() {
        return lines.stream().map(Line::text).toList();
    }

    /**
     * Waits for the first line (already seen or still to come) matching {@code p}.
     *
     * @return the line, or null after {@code timeout}
     */
    public synchronized Line await(Predicate<String> p, long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        int checked = 0;
        while (true) {
            for (; checked < lines.size(); checked++) {
                if (p.test(lines.get(checked).text())) return lines.get(checked);
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) return null;
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }

    /** The whole console so far, for failure messages. */
    public synchronized String transcript() {
        StringBuilder sb = new StringBuilder();
        for (Line l : lines) sb.append(l.text()).append('\n');
        sb.append(current.toString(StandardCharsets.UTF_8));
        return sb.toString();
    }
}
