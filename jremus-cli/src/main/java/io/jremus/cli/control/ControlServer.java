package io.jremus.cli.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jremus.vmm.Vm;
import io.jremus.vmm.snapshot.SnapshotException;
import io.jremus.vmm.snapshot.SnapshotProgress;
import io.jremus.vmm.snapshot.SnapshotSession;
import io.jremus.vmm.snapshot.format.SnapshotWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The control socket of a running VMM ({@code jremus run --control PATH}): a Unix stream
 * socket speaking the line-based JSON protocol of {@code docs/control-protocol.md}. One request
 * per line, one final response per request ({@code "ok": true|false}); a snapshot request also
 * gets {@code {"progress": pct}} lines first. Clients are served one at a time on one platform
 * thread, so commands never interleave.
 */
public final class ControlServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControlServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path path;
    private final Vm vm;
    private final SnapshotSession snapshots;
    private final ServerSocketChannel server;
    private final Thread thread;

    public ControlServer(Path path, Vm vm) throws IOException {
        this.path = path;
        this.vm = vm;
        this.snapshots = new SnapshotSession(vm);
        Files.deleteIfExists(path);
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        thread = Thread.ofPlatform().name("control").daemon(true).start(this::serve);
    }

    private void serve() {
        while (server.isOpen()) {
            try (SocketChannel c = server.accept()) {
                handle(c);
            } catch (IOException e) {
                if (server.isOpen()) log.debug("control connection: {}", e.toString());
            }
        }
    }

    private void handle(SocketChannel c) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(c), StandardCharsets.UTF_8));
        OutputStream out = Channels.newOutputStream(c);
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) continue;
            ObjectNode reply;
            try {
                reply = execute(JSON.readTree(line), out);
            } catch (IOException e) {
                reply = error("bad request: " + e.getMessage());
            } catch (SnapshotException e) {
                reply = error(e.getMessage()).put("kind", e.kind().name());
            } catch (RuntimeException e) {
                log.warn("control command failed", e);
                reply = error(e.toString());
            }
            send(out, reply);
        }
    }

    private ObjectNode execute(JsonNode req, OutputStream out) throws IOException, SnapshotException {
        String cmd = req.path("cmd").asText("");
        switch (cmd) {
            case "status" -> {
                return ok().put("state", vm.machine().stopped().isDone() ? "stopped" : vm.machine().isPaused() ? "paused" : "running")
                        .put("vcpus", vm.config().vcpus()).put("memoryMib", vm.config().memoryMib()).put("name", vm.config().name())
                        .put("pid", ProcessHandle.current().pid());
            }
            case "pause" -> {
                long ns = vm.pause();
                return ok().put("pauseMicros", ns / 1000);
            }
            case "resume" -> {
                vm.resume();
                return ok();
            }
            case "stop" -> {
                vm.stop("stop requested on the control socket");
                return ok();
            }
            case "snapshot" -> {
                String p = req.path("path").asText("");
                if (p.isEmpty()) return error("snapshot: \"path\" is required");
                boolean incremental = req.path("incremental").asBoolean(false);
                boolean leavePaused = req.path("leavePaused").asBoolean(false);
                boolean wasPaused = vm.machine().isPaused();
                long t0 = System.nanoTime();
                if (!wasPaused) vm.pause();
                SnapshotWriter.Result r;
                try {
                    r = snapshots.take(Path.of(p), incremental, SnapshotProgress.everyPercent(5, pct -> {
                        try {
                            send(out, JSON.createObjectNode().put("progress", pct));
                        } catch (IOException ignored) {
                            // the client went away; finish the snapshot anyway
                        }
                    }));
                } finally {
                    if (!wasPaused && !leavePaused) vm.resume();
                }
                return ok().put("path", r.path().toString()).put("kind", r.header().kind().name()).put("sequence", r.header().sequence())
                        .put("id", r.header().idHex()).put("bytes", r.bytes()).put("dataPages", r.dataPages()).put("zeroPages", r.zeroPages())
                        .put("pausedMillis", (System.nanoTime() - t0) / 1_000_000).put("paused", vm.machine().isPaused());
            }
            default -> {
                return error("unknown command \"" + cmd + "\" (pause, resume, snapshot, status, stop)");
            }
        }
    }

    private static ObjectNode ok() {
        return JSON.createObjectNode().put("ok", true);
    }

    private static ObjectNode error(String m) {
        return JSON.createObjectNode().put("ok", false).put("error", m);
    }

    private static void send(OutputStream out, JsonNode n) throws IOException {
        out.write((JSON.writeValueAsString(n) + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    @Override
    public void close() {
        try {
            server.close();
            Files.deleteIfExists(path);
        } catch (IOException e) {
            log.debug("closing control socket: {}", e.toString());
        }
        thread.interrupt();
    }
}
