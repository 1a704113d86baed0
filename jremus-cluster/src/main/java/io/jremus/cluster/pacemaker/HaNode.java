package io.jremus.cluster.pacemaker;

import io.jremus.replication.remus.Backup;
import io.jremus.replication.remus.Primary;
import io.jremus.replication.remus.RemusOptions;
import io.jremus.replication.stream.tls.SecureChannels;
import io.jremus.vmm.Vm;
import io.jremus.vmm.config.VmConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLServerSocket;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One node's instance of a protected VM under Pacemaker (the process behind
 * {@code ocf:jremus:vm}): <b>Unpromoted</b> = a Remus backup listening for a primary;
 * <b>Promoted</b> = the primary running the VM, which keeps looking for a backup among its peers
 * and seeds each one live (re-protection). Pacemaker drives every role change through
 * {@link #promote}, {@link #demote} and {@link #peerStopped}; this class never promotes itself
 * ({@link PacemakerArbiter}).
 *
 * <pre>
 *  STANDBY ──promote──► (take over the committed epoch | cold boot if no primary ever connected)
 *     ▲                        │
 *     └──demote (handover)── PRIMARY ──► connect to a peer's standby, seed, checkpoint …
 *                                           backup lost: output held until peerStopped(node)
 * </pre>
 * Assumes one instance per node and VM, peers reachable on their replication addresses with the
 * cluster's TLS keys, and a VM config naming this node's disk and TAP.
 */
public final class HaNode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HaNode.class);

    /** A peer's name (as Pacemaker knows the node) and its replication address. */
    public record Peer(String node, InetSocketAddress address) {
    }

    /** What the node is doing, as reported to the resource agent. */
    public enum State { STANDBY, PROMOTING, PRIMARY, DEMOTING, STOPPED, FAILED }

    private final VmConfig config;
    private final String node;
    private final InetSocketAddress listen;
    private final List<Peer> peers;
    private final RemusOptions options;
    private final SecureChannels tls;
    private final Consumer<String> status;
    private final PacemakerArbiter arbiter = new PacemakerArbiter();

    private volatile State state = State.STANDBY;
    private volatile String failure;
    private volatile Backup backup;
    private volatile SSLServerSocket server;
    private volatile Thread standbyThread;
    private volatile Vm vm;
    private volatile Primary primary;
    private volatile Thread protectThread;
    private volatile String backupNode;
    private volatile boolean protectedNow;
    private volatile long lastEpoch;
    private volatile long committedEpoch;
    private volatile long takeoverMillis = -1;
    private volatile Primary.Outcome lastOutcome;
    private volatile Primary lastPrimary;
    private volatile boolean partialSeed;

    public HaNode(VmConfig config, String node, InetSocketAddress listen, List<Peer> peers, RemusOptions options,
                  SecureChannels tls, Consumer<String> status) {
        this.config = config;
        this.node = node;
        this.listen = listen;
        this.peers = peers.stream().filter(p -> !p.node().equals(node)).toList();
        this.options = options;
        this.tls = tls;
        this.status = status;
    }

    /** Starts as Unpromoted: listens for a primary. */
    public synchronized void start() throws IOException {
        startStandby();
    }

    private void startStandby() throws IOException {
        // A listener just closed under a blocked accept releases its port only when that thread
        // leaves accept: retry briefly instead of failing on EADDRINUSE.
        for (int i = 0; ; i++) {
            try {
                server = tls.listen(listen);
                break;
            } catch (java.net.BindException e) {
                if (i >= 40) throw e;
                sleep(50);
            }
        }
        server.setSoTimeout(1000);
        SSLServerSocket s = server;
        Backup.PeerAcceptor acceptor = new Backup.PeerAcceptor() {
            @Override
            public Socket accept() throws IOException {
                return tls.accept(s, Duration.ofSeconds(5));
            }

            @Override
            public String describe() {
                return listen + " (mutual TLS)";
            }
        };
        Backup b = new Backup(config, acceptor, arbiter, options, status, Vm.Options.defaults(), 0).handBackVm(true);
        backup = b;
        state = State.STANDBY;
        standbyThread = Thread.ofPlatform().name("ha-standby").start(() -> runStandby(b));
    }

    private void runStandby(Backup b) {
        try {
            Backup.Outcome o = b.run();
            committedEpoch = b.committedEpoch();
            switch (o) {
                case TOOK_OVER_RUNNING -> becomePrimary(b.takenOverVm(), b.committedEpoch());
                case PRIMARY_FINISHED -> restartStandby("the primary's VM powered off");
                case ABANDONED, REFUSED -> {
                    // promote (cold boot) or stop took it from here
                }
                default -> log.warn("standby ended: {}", o);
            }
        } catch (IOException e) {
            if (b.everConnected() && b.committedEpoch() == 0) partialSeed = true;
            if (state == State.STANDBY) restartStandby(e.getMessage());
            else failure = e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeServer();
        }
    }

    private void restartStandby(String why) {
        synchronized (this) {
            if (state != State.STANDBY) return;
            status.accept("standby: " + why + "; listening again");
            closeServer();
            try {
                startStandby();
            } catch (IOException e) {
                fail("cannot listen on " + listen + ": " + e.getMessage());
            }
        }
    }

    /**
     * Pacemaker promotes this instance. From a backup with a committed epoch: take it over. From
     * a standby no primary ever reached (a cluster's first start): boot the VM from its disk.
     * A standby that was being seeded but has no committed epoch refuses (its disk is partial).
     */
    public void promote(Duration timeout) throws IOException, InterruptedException {
        Backup b;
        synchronized (this) {
            if (state == State.PRIMARY) return;
            if (state != State.STANDBY) throw new IOException("cannot promote while " + state);
            state = State.PROMOTING;
            b = backup;
        }
        long t0 = System.nanoTime();
        if (b.committedEpoch() > 0) {
            arbiter.promote();
            status.accept("promote: taking over committed epoch " + b.committedEpoch());
            b.forceTakeover();
            long deadline = System.nanoTime() + timeout.toNanos();
            while (state == State.PROMOTING && failure == null && System.nanoTime() < deadline) Thread.sleep(5);
            if (state != State.PRIMARY) {
                String why = "promote: takeover did not complete" + (failure != null ? ": " + failure : " in time");
                // The monitor now reports the failure, and Pacemaker recovers this instance.
                fail(why);
                throw new IOException(why);
            }
        } else if (!b.everConnected() && !partialSeed) {
            String refusal = ColdBootPolicy.refusal(config);
            if (refusal != null) {
                synchronized (this) {
                    state = State.STANDBY;
                }
                throw new IOException("promote refused: " + refusal);
            }
            arbiter.promote();
            b.abandon();
            closeServer();
            standbyThread.join(TimeUnit.SECONDS.toMillis(5));
            status.accept("promote: no primary ever reached this node; booting the VM from its disk");
            Vm v = Vm.create(config, Vm.Options.defaults());
            long first = 0;
            try {
                first = ColdBootPolicy.trackDisks(v, status);
            } catch (IOException e) {
                v.close();
                synchronized (this) {
                    state = State.STANDBY;
                }
                throw e;
            }
            v.start();
            becomePrimary(v, first);
        } else {
            synchronized (this) {
                state = State.STANDBY;
            }
            throw new IOException("promote refused: this node was being seeded and holds no committed checkpoint");
        }
        takeoverMillis = (System.nanoTime() - t0) / 1_000_000;
    }

    private synchronized void becomePrimary(Vm v, long fromEpoch) {
        ColdBootPolicy.clearCleanStop(config, status);
        vm = v;
        lastEpoch = fromEpoch;
        state = State.PRIMARY;
        protectThread = Thread.ofPlatform().name("ha-protect").start(this::protectLoop);
    }

    /** As primary: find a backup among the peers, seed it live, checkpoint; again when it is lost. */
    private void protectLoop() {
        Vm v = vm;
        boolean saidAlone = false;
        while (state == State.PRIMARY && !v.machine().stopped().isDone()) {
            Socket s = null;
            Peer target = null;
            for (Peer p : peers) {
                try {
                    s = tls.connect(p.address(), Duration.ofMillis(800));
                    target = p;
                    break;
                } catch (IOException e) {
                    // not listening (no instance there, or it is not a standby)
                }
            }
            if (s == null) {
                if (!saidAlone) status.accept("primary: UNPROTECTED, no standby reachable among " + peerNames() + "; retrying");
                saidAlone = true;
                sleep(500);
                continue;
            }
            saidAlone = false;
            backupNode = target.node();
            arbiter.backupConnected(target.node());
            status.accept("primary: protecting with the standby on " + target.node() + " (" + target.address() + ")");
            try {
                Primary p = new Primary(v, s, arbiter, options.withFirstEpoch(lastEpoch + 1), status).returnWhenAlone(true);
                primary = p;
                lastPrimary = p;
                protectedNow = true;
                Primary.Outcome o = p.run();
                lastOutcome = o;
                protectedNow = false;
                lastEpoch = Math.max(lastEpoch, p.lastEpochSent());
                switch (o) {
                    case ALONE -> status.accept("primary: the backup on " + target.node() + " is gone; looking for a new one");
                    case HANDED_OVER, REFUSED, VM_STOPPED -> {
                        return;
                    }
                    default -> {
                    }
                }
            } catch (IOException e) {
                protectedNow = false;
                if (state != State.PRIMARY) return;
                status.accept("primary: replication to " + target.node() + " failed: " + e.getMessage());
                sleep(200);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                protectedNow = false;
                if (state != State.PRIMARY || v.machine().stopped().isDone()) return; // the VM was stopped under it
                status.accept("primary: replication to " + target.node() + " failed: " + e);
                sleep(200);
            } finally {
                backupNode = null;
            }
        }
    }

    /**
     * Pacemaker demotes this instance. Protected: hand the last epoch to the backup (the VM is
     * paused for one final checkpoint and its acknowledgement), then stop the VM. Unprotected:
     * stop the VM (nothing newer exists anywhere else). Then listen again as a standby.
     */
    public void demote(Duration timeout) throws IOException, InterruptedException {
        synchronized (this) {
            if (state == State.STANDBY) return;
            if (state != State.PRIMARY) throw new IOException("cannot demote while " + state);
            state = State.DEMOTING;
        }
        Primary p = primary;
        Vm v = vm;
        try {
            if (protectedNow && p != null) {
                p.requestHandover(timeout);
                protectThread.join(timeout.toMillis() + 1000);
            }
            if (lastOutcome != Primary.Outcome.HANDED_OVER) {
                // No healthy backup took the last epoch: output not yet acknowledged is dropped with
                // the VM, and whichever node holds the newest committed epoch is the one to promote.
                status.accept("demote: no handover (the VM was " + (protectedNow ? "protected but the backup did not acknowledge" : "unprotected")
                        + "); stopping the VM");
            }
            arbiter.demote();
            protectThread.interrupt();
            v.stop("demoted by Pacemaker");
            protectThread.join(5000);
            // With no backup holding its last state, this node's disk is the newest copy: it may
            // boot from it again (see ColdBootPolicy). After a handover the backup holds it.
            if (lastOutcome != Primary.Outcome.HANDED_OVER) ColdBootPolicy.markCleanStop(config, status);
        } finally {
            v.close();
            vm = null;
            primary = null;
            lastOutcome = null;
        }
        arbiter.standby();
        synchronized (this) {
            state = State.STANDBY;
            startStandby();
        }
        status.accept("demoted: the VM stopped here; listening as a standby");
    }

    /** Pacemaker reports the instance on {@code peer} stopped: a lost backup there can no longer take over. */
    public void peerStopped(String peer) {
        arbiter.peerStopped(peer);
    }

    /** What the resource agent's monitor reads. */
    public Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        State s = state;
        Vm v = vm;
        Backup b = backup;
        boolean vmRunning = v != null && !v.machine().stopped().isDone();
        if (s == State.PRIMARY && !vmRunning) s = State.FAILED;
        m.put("ok", true);
        m.put("node", node);
        m.put("vm", config.name());
        m.put("role", switch (s) {
            case PRIMARY, DEMOTING -> "promoted";
            case STANDBY, PROMOTING -> "unpromoted";
            default -> s.name().toLowerCase();
        });
        m.put("state", s.name());
        m.put("vmRunning", vmRunning);
        m.put("protected", protectedNow);
        m.put("backupNode", backupNode);
        m.put("awaitingPeerStop", arbiter.awaitedBackup());
        m.put("awaitingMillis", arbiter.awaitedMillis());
        long committed = b != null && s != State.PRIMARY ? b.committedEpoch() : committedEpoch;
        m.put("committedEpoch", committed);
        m.put("streaming", b != null && s == State.STANDBY && b.streaming());
        Primary p = primary;
        m.put("lastEpochSent", p != null ? Math.max(lastEpoch, p.lastEpochSent()) : lastEpoch);
        m.put("lastAcked", p != null ? p.lastAcked() : 0);
        m.put("takeoverMillis", takeoverMillis);
        Primary lp = lastPrimary;
        if (lp != null) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("fullCopy", lp.stats().fullCopies() > 0);
            r.put("chunks", lp.stats().resyncChunks());
            r.put("bytes", lp.stats().resyncBytes());
            r.put("seedMillis", lp.seedMillis());
            m.put("resync", r);
        }
        m.put("promotionScore", promotionScore(s, committed, partialSeed || b != null && b.everConnected()));
        if (failure != null) m.put("failure", failure);
        return m;
    }

    /**
     * Pacemaker's preference for promoting this instance: the primary keeps its role; a backup
     * holding a committed checkpoint is the natural successor; a standby that was never part of a
     * stream may boot the VM cold (a first start); a standby with a partial seed must not.
     */
    static int promotionScore(State s, long committedEpoch, boolean seededWithoutCommit) {
        if (s == State.PRIMARY || s == State.DEMOTING) return 1000;
        if (committedEpoch > 0) return 100;
        if (seededWithoutCommit) return -1; // its disk may be half-seeded: never promote
        return 5;
    }

    private String peerNames() {
        return peers.stream().map(Peer::node).toList().toString();
    }

    private void fail(String why) {
        failure = why;
        state = State.FAILED;
        status.accept("FAILED: " + why);
    }

    private void closeServer() {
        SSLServerSocket s = server;
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops everything: the VM (if running here) without a handover, and the standby. */
    @Override
    public synchronized void close() {
        if (state == State.STOPPED) return;
        arbiter.stop();
        state = State.STOPPED;
        Backup b = backup;
        if (b != null) b.abandon();
        closeServer();
        Primary p = primary;
        if (p != null) p.abortLink(); // no STREAM_END: the backup keeps its image for Pacemaker to promote
        Vm v = vm;
        vm = null;
        if (v != null) {
            v.stop("resource stopped");
            v.close();
        }
    }
}
