package io.jremus.cli.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Records, with tcpdump, the frames a guest MAC sends into the guests' segment through one
 * node's port: what a client could have received from the instance on that node. Used to check
 * that a partitioned old primary never releases output once the new primary answered.
 * Timestamps are wall-clock epoch microseconds (tcpdump {@code -tt}).
 */
public final class SegmentCapture implements AutoCloseable {
    private final Process process;
    private final Path file;

    private SegmentCapture(Process process, Path file) {
        this.process = process;
        this.file = file;
    }

    /** Starts capturing frames from {@code mac} that enter {@code segmentNs} on {@code port}. */
    public static SegmentCapture start(String segmentNs, String port, String mac, Path file) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("ip", "netns", "exec", segmentNs, "tcpdump", "-l", "-n", "-tt", "-Q", "in", "-i", port,
                "ether", "src", mac).redirectOutput(file.toFile()).redirectError(file.resolveSibling(file.getFileName() + ".err").toFile())
                .start();
        // tcpdump says "listening on" on stderr once the capture is armed.
        Path err = file.resolveSibling(file.getFileName() + ".err");
        for (int i = 0; i < 100 && p.isAlive(); i++) {
            if (Files.exists(err) && Files.readString(err).contains("listening on")) break;
            Thread.sleep(50);
        }
        if (!p.isAlive()) throw new IOException("tcpdump failed: " + Files.readString(err));
        return new SegmentCapture(p, file);
    }

    /** The captured frame lines whose timestamp is at or after {@code epochMicros}. */
    public List<String> linesAfter(long epochMicros) throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            long t = timeMicros(line);
            if (t >= 0 && t >= epochMicros) out.add(line);
        }
        return out;
    }

    /** How many frames were captured. */
    public int frames() throws IOException {
        int n = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) if (timeMicros(line) >= 0) n++;
        return n;
    }

    /** The epoch-µs timestamp at the start of a tcpdump -tt line, or -1. */
    static long timeMicros(String line) {
        int sp = line.indexOf(' ');
        int dot = line.indexOf('.');
        if (sp <= 0 || dot <= 0 || dot > sp) return -1;
        try {
            long sec = Long.parseLong(line.substring(0, dot));
            long us = Long.parseLong((line.substring(dot + 1, sp) + "000000").substring(0, 6));
            return sec * 1_000_000 + us;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly();
    }
}
