package io.jremus.it;

import io.jremus.cli.testbed.IncrClient;
import io.jremus.cli.testbed.RemusWorld;
import io.jremus.cli.testbed.Testbed;
import io.jremus.replication.stream.RecordWriter;
import io.jremus.replication.stream.StreamHeader;
import io.jremus.replication.stream.StreamLimits;
import io.jremus.replication.stream.page.PageEncoder;
import io.jremus.replication.stream.tls.SecureChannels;
import io.jremus.vmm.boot.GuestRamLayout;
import io.jremus.vmm.boot.RamRegion;
import io.jremus.vmm.config.VmConfig;
import io.jremus.vmm.config.VmConfigLoader;
import io.jremus.vmm.net.NetNs;
import io.jremus.vmm.snapshot.format.ConfigToml;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 5 evidence (d), invariants 2 and 6, at system level (the reader's unit tests cover every
 * corruption class record by record):
 * <ul>
 *   <li>forged peers: a TLS client whose certificate comes from another CA, and a plain-TCP
 *       client, are refused by the backup ("refused a peer"), which then protects the real
 *       primary normally;</li>
 *   <li>an authenticated peer (right keys) that sends a valid stream header and then garbage is
 *       refused ("stream refused"); the backup starts no VM from it;</li>
 *   <li>corrupted and truncated streams after commits: the primary's link runs through a proxy;
 *       the primary is frozen (SIGSTOP) mid-run, the proxy then feeds the backup a forged TLS
 *       record (corrupted) or just closes (truncated), and the primary is killed. The backup
 *       refuses or ends the stream, keeps its committed epoch N, takes over at exactly epoch N,
 *       and the client's count is exact.</li>
 * </ul>
 */
class RemusBadStreamIT {
    private static final String PROXY = Testbed.HOST_A_REPL_IP + ":7101";
    @TempDir
    static Path dir;
    private static RemusWorld world;

    @BeforeAll
    static void up() throws Exception {
        world = RemusWorlds.up("jrit-bad", dir);
    }

    @AfterAll
    static void down() throws Exception {
        if (world != null) world.close();
    }

    @AfterEach
    void clean() throws Exception {
        if (world == null) return;
        world.killHost("a");
        world.killHost("b");
    }

    @Test
    void shouldRefuseForgedPeersAndAnAuthenticatedPeerSendingGarbage() throws Exception {
        Path otherKeys = dir.resolve("other-ca");
        RemusWorld.makeKeys(otherKeys, List.of("a", "b"));
        // A backup alone: its primary is pointed at an address where nothing listens, and killed.
        RemusWorld.Pair pair = world.startPair(RemusWorld.PairOptions.defaults().backupAddress(PROXY));
        world.killHost("a");
        RemusWorld.Node backup = pair.backup();
        backup.await(l -> l.contains("backup: waiting for the primary"), Duration.ofSeconds(60));
        InetSocketAddress target = new InetSocketAddress(Testbed.HOST_B_REPL_IP, Integer.parseInt(RemusWorld.REPL_PORT));

        Throwable forged = attempt(() -> {
            try (Socket s = SecureChannels.forNode(otherKeys, "a").connect(target, Duration.ofSeconds(5))) {
                s.getOutputStream().write(new byte[64]);
                s.getOutputStream().flush();
                s.setSoTimeout(5000);
                return s.getInputStream().read(); // the server's refusal arrives here at the latest
            }
        });
        assertThat(forged).as("a certificate from another CA must not get through").isInstanceOf(IOException.class);
        backup.await(l -> l.contains("backup: refused a peer"), Duration.ofSeconds(20));
        attempt(() -> {
            try (Socket s = new Socket()) {
                s.connect(target, 5000);
                s.getOutputStream().write("PRIMARY HELLO, please take my pages\r\n".getBytes(StandardCharsets.US_ASCII));
                s.setSoTimeout(10_000);
                return s.getInputStream().read();
            }
        });
        awaitCount(backup, "backup: refused a peer", 2);
        assertThat(backup.alive()).isTrue();
        assertThat(backup.log()).doesNotContain("primary connected");

        // Right keys, valid header, then garbage.
        VmConfig cfg = VmConfigLoader.load(pair.configB());
        List<StreamHeader.Region> regions = new ArrayList<>();
        for (RamRegion r : GuestRamLayout.regionsFor(cfg.memoryBytes())) regions.add(new StreamHeader.Region(r.guestAddress(), r.size()));
        Throwable garbage = attempt(() -> {
            try (Socket s = SecureChannels.forNode(world.keys(), "a").connect(target, Duration.ofSeconds(5))) {
                RecordWriter w = new RecordWriter(s.getOutputStream(), StreamLimits.defaults(), PageEncoder.create(PageEncoder.Policy.FAST));
                w.writeHeader(new StreamHeader(UUID.randomUUID(), 1, ConfigToml.digest(cfg), regions));
                w.flush();
                byte[] junk = new byte[8192];
                new Random(5).nextBytes(junk);
                s.getOutputStream().write(junk);
                s.getOutputStream().flush();
                s.setSoTimeout(10_000);
                InputStream in = s.getInputStream();
                while (in.read() >= 0) {
                    // drain the back channel (header, ERROR) until the backup closes
                }
                return 0;
            }
        });
        String refused = backup.await(l -> l.contains("backup: stream refused"), Duration.ofSeconds(20));
        Integer exit = backup.awaitExit(Duration.ofSeconds(20));
        assertThat(exit).as("the backup ends: nothing committed to take over\n" + backup.log()).isNotNull().isNotZero();
        assertThat(backup.log()).doesNotContain("TAKEOVER").doesNotContain("backup: first checkpoint committed");
        System.err.println("forged peer: " + forged + "; garbage after a valid header: " + refused + " (client saw " + garbage + ")");
    }

    @Test
    void shouldKeepTheCommittedEpochWhenTheStreamIsCorruptedInFlight() throws Exception {
        tamperAndFailOver(true);
    }

    @Test
    void shouldKeepTheCommittedEpochWhenTheStreamIsTruncated() throws Exception {
        tamperAndFailOver(false);
    }

    private void tamperAndFailOver(boolean corrupt) throws Exception {
        try (Proxy proxy = Proxy.start(world.testbed().hostANs(), PROXY,
                new InetSocketAddress(Testbed.HOST_B_REPL_IP, Integer.parseInt(RemusWorld.REPL_PORT)))) {
            RemusWorld.Pair pair = world.startPair(RemusWorld.PairOptions.defaults().backupAddress(PROXY));
            pair.awaitProtected(Duration.ofSeconds(90));
            try (IncrClient c = world.client(Duration.ofSeconds(20))) {
                c.startPump(0);
                RemusWorlds.awaitMoreAcks(c, 30, Duration.ofSeconds(30));
                pair.primary().signal("STOP");
                Thread.sleep(30);
                proxy.tamper(corrupt);
                String kept = pair.backup().await(l -> l.contains("keeping committed epoch") || l.contains("backup: primary lost"),
                        Duration.ofSeconds(20));
                world.killHost("a");
                String takeover = pair.backup().await(l -> l.contains("TAKEOVER: running epoch"), Duration.ofSeconds(30));
                RemusWorlds.awaitMoreAcks(c, 30, Duration.ofSeconds(60));
                RemusWorlds.assertExact(c, (corrupt ? "corrupted" : "truncated") + "\n--- backup log ---\n" + pair.backup().log());
                String lost = pair.backup().line(l -> l.contains("backup: primary lost"));
                long keptEpoch = Long.parseLong(lost.replaceAll(".*take over at epoch (\\d+).*", "$1"));
                assertThat(takeover).contains("running epoch " + keptEpoch + " ");
                if (corrupt) assertThat(pair.backup().log()).contains("backup: stream refused");
                System.err.println((corrupt ? "corrupted: " : "truncated: ") + kept + " | " + takeover + " | " + c.acked() + " acked, exact");
            }
        }
    }

    private static void awaitCount(RemusWorld.Node n, String text, int count) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (n.log().lines().filter(l -> l.contains(text)).count() < count) {
            assertThat(System.nanoTime()).as(n.log()).isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    /** Runs a connecting client inside host-a's namespace; returns what it threw (or null). */
    private static Throwable attempt(java.util.concurrent.Callable<Integer> client) throws InterruptedException {
        try {
            NetNs.runIn(world.testbed().hostANs(), client);
            return null;
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause();
        }
    }

    /**
     * A TCP forwarder on the replication link (listening in host-a's namespace). {@link #tamper}
     * stops forwarding and either writes a forged TLS application-data record to the backup
     * (corrupt) or just closes the backup's side (truncate).
     */
    static final class Proxy implements AutoCloseable {
        private final ServerSocket server;
        private final AtomicReference<Socket> toBackup = new AtomicReference<>();
        private final AtomicReference<Socket> fromPrimary = new AtomicReference<>();
        private volatile boolean frozen;

        private Proxy(ServerSocket server, String ns, InetSocketAddress backup) {
            this.server = server;
            Thread.ofPlatform().daemon(true).start(() -> {
                try {
                    Socket p = server.accept();
                    Socket b = NetNs.runIn(ns, () -> new Socket(backup.getAddress(), backup.getPort()));
                    fromPrimary.set(p);
                    toBackup.set(b);
                    pump(p, b);
                    pump(b, p);
                } catch (Exception e) {
                    // closed
                }
            });
        }

        static Proxy start(String ns, String listen, InetSocketAddress backup) throws Exception {
            String[] hp = listen.split(":");
            ServerSocket s = NetNs.runIn(ns, () -> {
                ServerSocket ss = new ServerSocket();
                ss.setReuseAddress(true);
                ss.bind(new InetSocketAddress(hp[0], Integer.parseInt(hp[1])));
                return ss;
            });
            return new Proxy(s, ns, backup);
        }

        private void pump(Socket from, Socket to) {
            Thread.ofPlatform().daemon(true).start(() -> {
                byte[] buf = new byte[1 << 16];
                try {
                    InputStream in = from.getInputStream();
                    OutputStream out = to.getOutputStream();
                    for (int n; (n = in.read(buf)) >= 0; ) {
                        synchronized (this) {
                            if (frozen) return;
                            out.write(buf, 0, n);
                        }
                    }
                } catch (IOException e) {
                    // one side went away
                }
            });
        }

        void tamper(boolean corrupt) throws IOException {
            Socket b = toBackup.get();
            synchronized (this) {
                frozen = true;
                if (corrupt) {
                    byte[] rec = new byte[5 + 96];
                    new Random(7).nextBytes(rec);
                    rec[0] = 0x17; // application data
                    rec[1] = 0x03;
                    rec[2] = 0x03;
                    rec[3] = 0;
                    rec[4] = 96;
                    b.getOutputStream().write(rec);
                    b.getOutputStream().flush();
                } else {
                    b.shutdownOutput();
                }
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : new Socket[]{toBackup.get(), fromPrimary.get()}) if (s != null) s.close();
        }
    }
}
