package io.jremus.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jremus.cluster.pacemaker.HaNode;
import io.jremus.replication.remus.RemusOptions;
import io.jremus.replication.stream.tls.SecureChannels;
import io.jremus.vmm.config.VmConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code jremus ha-node VM.toml --node N --listen H:P --peer M=H:P ... --control SOCK}: one node's
 * instance of a protected VM under Pacemaker, driven by the resource agent {@code ocf:jremus:vm}
 * over a control socket (docs/control-protocol.md, "ha-node"). Runs until told {@code stop} or
 * sent SIGTERM; exit status 0.
 */
@Command(name = "ha-node", mixinStandardHelpOptions = true,
        description = "Run one node's instance of a protected VM for Pacemaker (used by ocf:jremus:vm).")
public final class HaNodeCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Parameters(index = "0", paramLabel = "VM.toml", description = "VM config (this node's disk and TAP).")
    Path config;
    @Option(names = "--node", required = true, paramLabel = "NAME", description = "This node's name, as Pacemaker and the keys know it.")
    String node;
    @Option(names = "--listen", required = true, paramLabel = "HOST:PORT", description = "Replication address this node listens on as a standby.")
    String listen;
    @Option(names = "--peer", paramLabel = "NAME=HOST:PORT", description = "Another node's replication address (repeat; this node's own entry is ignored).")
    List<String> peers = new ArrayList<>();
    @Option(names = "--keys", required = true, paramLabel = "DIR", description = "Keys directory made by 'jremus keys init'.")
    Path keys;
    @Option(names = "--control", required = true, paramLabel = "SOCKET", description = "Unix socket the resource agent talks to.")
    Path control;
    @Option(names = "--interval-ms", defaultValue = "25", description = "Epoch interval, 10..10000 ms (default ${DEFAULT-VALUE}).")
    long intervalMs;
    @Option(names = "--peer-timeout-ms", defaultValue = "300", description = "Silence after which the peer is suspected (default ${DEFAULT-VALUE}).")
    long peerTimeoutMs;

    @Override
    public Integer call() throws Exception {
        if (intervalMs < 10 || intervalMs > 10_000) throw new UserException("--interval-ms must be 10..10000");
        VmConfig cfg = RemusCommon.load(config);
        List<HaNode.Peer> peerList = new ArrayList<>();
        for (String p : peers) {
            int eq = p.indexOf('=');
            if (eq <= 0) throw new UserException("--peer must be NAME=HOST:PORT, got \"" + p + "\"");
            peerList.add(new HaNode.Peer(p.substring(0, eq), WitnessCommand.parseHostPort(p.substring(eq + 1))));
        }
        // The control socket answers first ("STARTING"), so the agent's start returns while keys,
        // TLS and the standby's RAM image are set up: a spare's start sits on Pacemaker's path to
        // the promotion of another node after a failure.
        CountDownLatch stop = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicReference<HaNode> ref = new java.util.concurrent.atomic.AtomicReference<>();
        CountDownLatch ready = new CountDownLatch(1);
        Files.deleteIfExists(control);
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(control));
            Thread.ofPlatform().name("ha-control").daemon(true).start(() -> serve(server, ref, ready, stop));
            RemusOptions options = RemusOptions.defaults(cfg.name(), node).withInterval(Duration.ofMillis(intervalMs))
                    .withPeerTimeout(Duration.ofMillis(peerTimeoutMs));
            SecureChannels tls;
            try {
                tls = SecureChannels.forNode(keys, node);
            } catch (IOException e) {
                throw new UserException("cannot load the keys of " + node + " from " + keys + ": " + e.getMessage());
            }
            HaNode ha = new HaNode(cfg, node, WitnessCommand.parseHostPort(listen), peerList, options, tls, RemusCommon::status);
            try {
                ha.start();
            } catch (IOException e) {
                throw new UserException("cannot listen on " + listen + ": " + e.getMessage());
            }
            Runtime.getRuntime().addShutdownHook(new Thread(ha::close));
            ref.set(ha);
            ready.countDown();
            RemusCommon.status("ha-node " + node + ": standby for " + cfg.name() + " on " + listen + "; control " + control);
            stop.await();
        } finally {
            HaNode ha = ref.get();
            if (ha != null) ha.close();
            Files.deleteIfExists(control);
        }
        RemusCommon.status("ha-node " + node + ": stopped");
        return 0;
    }

    private static void serve(ServerSocketChannel server, java.util.concurrent.atomic.AtomicReference<HaNode> ref, CountDownLatch ready,
                              CountDownLatch stop) {
        while (server.isOpen()) {
            try (SocketChannel c = server.accept()) {
                BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(c), StandardCharsets.UTF_8));
                OutputStream out = Channels.newOutputStream(c);
                for (String line; (line = in.readLine()) != null; ) {
                    if (line.isBlank()) continue;
                    JsonNode reply = execute(line, ref, ready, stop);
                    out.write((JSON.writeValueAsString(reply) + "\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                }
            } catch (IOException e) {
                // client went away
            }
        }
    }

    private static JsonNode execute(String line, java.util.concurrent.atomic.AtomicReference<HaNode> ref, CountDownLatch ready,
                                    CountDownLatch stop) {
        try {
            JsonNode req = JSON.readTree(line);
            Duration timeout = Duration.ofMillis(req.path("timeoutMs").asLong(30_000));
            String cmd = req.path("cmd").asText("");
            HaNode ha = ref.get();
            if (ha == null) {
                switch (cmd) {
                    case "status", "peer-stopped" -> {
                        // Starting: a standby-to-be, not yet listening; nothing can have been lost yet.
                        return JSON.createObjectNode().put("ok", true).put("role", "unpromoted").put("state", "STARTING");
                    }
                    case "stop" -> {
                        stop.countDown();
                        return ok();
                    }
                    default -> {
                        if (!ready.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) return error(cmd + ": still starting");
                        ha = ref.get();
                    }
                }
            }
            switch (cmd) {
                case "status" -> {
                    return JSON.valueToTree(ha.status());
                }
                case "promote" -> {
                    ha.promote(timeout);
                    return withStatus(ha);
                }
                case "demote" -> {
                    ha.demote(timeout);
                    return withStatus(ha);
                }
                case "peer-stopped" -> {
                    String n = req.path("node").asText("");
                    if (n.isEmpty()) return error("peer-stopped: \"node\" is required");
                    ha.peerStopped(n);
                    return ok();
                }
                case "stop" -> {
                    stop.countDown();
                    return ok();
                }
                default -> {
                    return error("unknown command \"" + cmd + "\" (status, promote, demote, peer-stopped, stop)");
                }
            }
        } catch (IOException e) {
            return error(e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return error("interrupted");
        } catch (RuntimeException e) {
            return error(e.toString());
        }
    }

    private static JsonNode withStatus(HaNode ha) {
        return JSON.valueToTree(ha.status());
    }

    private static ObjectNode ok() {
        return JSON.createObjectNode().put("ok", true);
    }

    private static ObjectNode error(String m) {
        return JSON.createObjectNode().put("ok", false).put("error", m);
    }
}
