package io.jremus.cluster.witness;

import io.jremus.replication.failover.Arbiter;
import io.jremus.replication.failover.Grant;
import io.jremus.replication.failover.Role;

import javax.net.SocketFactory;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * An {@link Arbiter} that asks a {@link WitnessServer} over one connection, opened on first use
 * and again after any failure. Requests are serialized. Any network problem, timeout or garbled
 * answer becomes {@link Grant.Outcome#UNREACHABLE} (and the connection is dropped, so a late
 * answer can never be taken for the next request's). Asking again after a lost answer is safe:
 * a holder that asks again in the same role keeps its term.
 */
public final class WitnessClient implements Arbiter, AutoCloseable {
    /** How soon to ask again after the witness could not be reached. */
    public static final Duration RETRY_UNREACHABLE = Duration.ofMillis(100);

    private final InetSocketAddress witness;
    private final SocketFactory factory;
    private final Duration lease;
    private Socket socket;
    private InputStream in;
    private OutputStream out;
    private long nextReqId = 1;

    /**
     * @param lease the lease the witness grants (its {@code --lease-ms}); answers carry it too,
     *              this is only what {@link #lease()} reports before the first answer
     */
    public WitnessClient(InetSocketAddress witness, SocketFactory factory, Duration lease) {
        this.witness = witness;
        this.factory = factory;
        this.lease = lease;
    }

    public WitnessClient(InetSocketAddress witness, Duration lease) {
        this(witness, SocketFactory.getDefault(), lease);
    }

    @Override
    public Duration lease() {
        return lease;
    }

    @Override
    public synchronized Grant request(String vmId, String node, Role wanted, long knownTerm, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long reqId = nextReqId++;
        String line = WitnessProtocol.formatRequest(reqId, vmId, node, wanted, knownTerm);
        try {
            if (socket == null) connect(remainingMillis(deadline));
            LineIO.writeLine(out, line);
            socket.setSoTimeout(remainingMillis(deadline));
            String ans = LineIO.readLine(in, WitnessProtocol.MAX_LINE);
            if (ans == null) throw new IOException("witness closed the connection");
            return WitnessProtocol.parseAnswer(ans, reqId, vmId);
        } catch (IOException | IllegalArgumentException e) {
            disconnect();
            return Grant.unreachable(vmId, RETRY_UNREACHABLE, "witness " + witness + ": " + e.getMessage());
        }
    }

    private void connect(int timeoutMs) throws IOException {
        Socket s = factory.createSocket();
        try {
            s.setTcpNoDelay(true);
            s.connect(witness, timeoutMs);
            in = new BufferedInputStream(s.getInputStream());
            out = s.getOutputStream();
            socket = s;
        } catch (IOException e) {
            s.close();
            throw e;
        }
    }

    private static int remainingMillis(long deadline) throws IOException {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) throw new IOException("timed out");
        return (int) Math.min(Integer.MAX_VALUE, left);
    }

    private void disconnect() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // dropping a broken connection
            }
        }
        socket = null;
        in = null;
        out = null;
    }

    @Override
    public synchronized void close() {
        disconnect();
    }
}
