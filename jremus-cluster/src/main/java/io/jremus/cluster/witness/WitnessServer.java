package io.jremus.cluster.witness;

import io.jremus.replication.failover.Grant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ServerSocketFactory;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;

/**
 * The witness service: a TCP listener answering {@link WitnessProtocol} requests with a
 * {@link WitnessLedger}. One virtual thread per connection; requests are decided one at a time
 * by the ledger. The transport is whatever the {@link ServerSocketFactory} makes: plain TCP by
 * default, mutual TLS when a TLS factory is passed (the node name in a request should then be
 * checked against the peer's certificate; see docs/witness.md).
 */
public final class WitnessServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WitnessServer.class);
    /** Connections beyond this are closed at once: two nodes per VM need a handful. */
    public static final int MAX_CONNECTIONS = 256;
    /** A connection that sends nothing for this long is closed (clients reconnect). */
    public static final int IDLE_TIMEOUT_MS = 300_000;

    private final WitnessLedger ledger;
    private final ServerSocket server;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final Semaphore slots = new Semaphore(MAX_CONNECTIONS);
    private final Thread acceptor;
    private volatile boolean closed;

    private WitnessServer(WitnessLedger ledger, ServerSocket server) {
        this.ledger = ledger;
        this.server = server;
        this.acceptor = Thread.ofPlatform().name("witness-accept").daemon().unstarted(this::acceptLoop);
    }

    /** Binds {@code bind} (port 0 for any) and starts answering. */
    public static WitnessServer start(WitnessLedger ledger, InetSocketAddress bind, ServerSocketFactory factory) throws IOException {
        ServerSocket ss = factory.createServerSocket();
        try {
            ss.setReuseAddress(true);
            ss.bind(bind, 64);
        } catch (IOException e) {
            ss.close();
            throw new IOException("witness cannot listen on " + bind + ": " + e.getMessage(), e);
        }
        WitnessServer w = new WitnessServer(ledger, ss);
        w.acceptor.start();
        return w;
    }

    public static WitnessServer start(WitnessLedger ledger, InetSocketAddress bind) throws IOException {
        return start(ledger, bind, ServerSocketFactory.getDefault());
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    public WitnessLedger ledger() {
        return ledger;
    }

    private void acceptLoop() {
        while (!closed) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                if (closed) return;
                log.warn("witness: accept failed: {}", e.toString());
                try {
                    Thread.sleep(50); // e.g. out of file descriptors: do not spin
                } catch (InterruptedException ie) {
                    return;
                }
                continue;
            }
            if (!slots.tryAcquire()) {
                log.warn("witness: more than {} connections, closing {}", MAX_CONNECTIONS, s.getRemoteSocketAddress());
                closeQuietly(s);
                continue;
            }
            open.add(s);
            Thread.ofVirtual().name("witness-conn").start(() -> {
                try {
                    serve(s);
                } finally {
                    open.remove(s);
                    closeQuietly(s);
                    slots.release();
                }
            });
        }
    }

    private void serve(Socket s) {
        Long reqId = null;
        try {
            s.setSoTimeout(IDLE_TIMEOUT_MS);
            s.setTcpNoDelay(true);
            InputStream in = new BufferedInputStream(s.getInputStream());
            OutputStream out = new BufferedOutputStream(s.getOutputStream());
            while (!closed) {
                String line = LineIO.readLine(in, WitnessProtocol.MAX_LINE);
                if (line == null) return;
                reqId = null;
                WitnessProtocol.Request r;
                try {
                    r = WitnessProtocol.parseRequest(line);
                } catch (IllegalArgumentException e) {
                    LineIO.writeLine(out, WitnessProtocol.formatError(null, e.getMessage()));
                    log.warn("witness: bad request from {}: {}", s.getRemoteSocketAddress(), e.getMessage());
                    return;
                }
                reqId = r.reqId();
                Grant g = ledger.decide(r.vmId(), r.node(), r.role(), r.knownTerm());
                log.info("witness: {} asks {} for {} (known term {}): {}", r.node(), r.role(), r.vmId(), r.knownTerm(), g);
                LineIO.writeLine(out, WitnessProtocol.formatAnswer(r.reqId(), g));
            }
        } catch (SocketException e) {
            if (!closed) log.debug("witness: connection {} ended: {}", s.getRemoteSocketAddress(), e.toString());
        } catch (IOException e) {
            log.warn("witness: connection {} (request {}): {}", s.getRemoteSocketAddress(), reqId, e.toString());
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing: nothing to do
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
        open.forEach(WitnessServer::closeQuietly);
        try {
            acceptor.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
