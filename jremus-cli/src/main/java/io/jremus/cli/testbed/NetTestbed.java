package io.jremus.cli.testbed;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A two-namespace network for whole-system tests and benchmarks: {@code <id>-host} holds a bridge
 * (10.77.0.1/24) with the guest's TAP on it, {@code <id>-client} holds a veth end at
 * 10.77.0.3/24 on the same segment. The guest is configured as 10.77.0.2. Only addresses inside
 * these namespaces are ever used; {@link #close} deletes both namespaces (and with them the
 * bridge, the TAP and the veth pair), also from a shutdown hook if a test dies half-way.
 */
public final class NetTestbed implements AutoCloseable {
    public static final String GUEST_IP = "10.77.0.2";
    public static final String HOST_IP = "10.77.0.1";
    public static final String CLIENT_IP = "10.77.0.3";
    public static final String TAP = "jtap0";

    private final String hostNs;
    private final String clientNs;
    private final Thread cleanup;
    private boolean closed;

    private NetTestbed(String id) {
        this.hostNs = id + "-host";
        this.clientNs = id + "-client";
        this.cleanup = new Thread(this::deleteNamespaces);
        Runtime.getRuntime().addShutdownHook(cleanup);
    }

    /** Why namespaces cannot be made here, or null when they can (root and a working 'ip netns'). */
    public static String unavailableReason() {
        if (!"root".equals(System.getProperty("user.name"))) return "network namespaces need root";
        try {
            Process p = new ProcessBuilder("ip", "netns", "list").redirectErrorStream(true).start();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) return "'ip netns' does not work here";
            return null;
        } catch (IOException e) {
            return "iproute2 ('ip') is not installed";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    public static NetTestbed create() throws IOException, InterruptedException {
        String id = "jr" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xFFFF));
        NetTestbed t = new NetTestbed(id);
        try {
            t.ip("netns", "add", t.hostNs);
            t.ip("netns", "add", t.clientNs);
            t.ip("-n", t.hostNs, "link", "set", "lo", "up");
            t.ip("-n", t.clientNs, "link", "set", "lo", "up");
            t.ip("-n", t.hostNs, "link", "add", "jbr0", "type", "bridge");
            t.ip("-n", t.hostNs, "addr", "add", HOST_IP + "/24", "dev", "jbr0");
            t.ip("-n", t.hostNs, "link", "set", "jbr0", "up");
            t.ip("-n", t.hostNs, "tuntap", "add", "dev", TAP, "mode", "tap", "vnet_hdr");
            t.ip("-n", t.hostNs, "link", "set", TAP, "master", "jbr0", "up");
            t.ip("-n", t.hostNs, "link", "add", "jvh", "type", "veth", "peer", "name", "jvc", "netns", t.clientNs);
            t.ip("-n", t.hostNs, "link", "set", "jvh", "master", "jbr0", "up");
            t.ip("-n", t.clientNs, "addr", "add", CLIENT_IP + "/24", "dev", "jvc");
            t.ip("-n", t.clientNs, "link", "set", "jvc", "up");
            return t;
        } catch (IOException | RuntimeException | InterruptedException e) {
            t.close();
            throw e;
        }
    }

    public String hostNs() {
        return hostNs;
    }

    public String clientNs() {
        return clientNs;
    }

    /** Runs a command in the client namespace and returns its output (stdout+stderr) and status. */
    public Result inClient(long timeoutSeconds, String... cmd) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", clientNs));
        full.addAll(List.of(cmd));
        return run(full, timeoutSeconds);
    }

    /** Starts a long-running command in the client namespace (the caller destroys it). */
    public Process startInClient(String... cmd) throws IOException {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", clientNs));
        full.addAll(List.of(cmd));
        return new ProcessBuilder(full).redirectErrorStream(true).start();
    }

    public record Result(int status, String output) {
    }

    private void ip(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        Result r = run(cmd, 30);
        if (r.status() != 0) throw new IOException(String.join(" ", cmd) + " failed: " + r.output().strip());
    }

    private static Result run(List<String> cmd, long timeoutSeconds) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out;
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
            return new Result(-1, new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8) + "\n(timed out)");
        }
        out = p.getInputStream().readAllBytes();
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    private synchronized void deleteNamespaces() {
        if (closed) return;
        closed = true;
        for (String ns : List.of(clientNs, hostNs)) {
            try {
                run(List.of("ip", "netns", "del", ns), 30);
            } catch (IOException | InterruptedException ignored) {
                // best effort: nothing else can be done at teardown
            }
        }
    }

    @Override
    public void close() {
        deleteNamespaces();
        try {
            Runtime.getRuntime().removeShutdownHook(cleanup);
        } catch (IllegalStateException ignored) {
            // the JVM is already shutting down
        }
    }
}
