package io.jremus.cli.testbed;

import io.jremus.vmm.net.NetNs;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;

/**
 * A Redis client that INCRs one key over ONE TCP connection, opened inside a network namespace
 * (the socket stays bound to it), and checks every reply: each must be exactly the previous one
 * plus one, so a lost acknowledged write or a double count fails at once. It records when each
 * reply arrived (for the failover time: kill → first reply) and whether the connection was reset.
 *
 * <p>The counter may start above zero (a replayed log): {@link #base} is read with GET first.
 */
public final class IncrClient implements AutoCloseable {
    private static final byte[] INCR = "*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] GET = "*2\r\n$3\r\nGET\r\n$7\r\ncounter\r\n".getBytes(StandardCharsets.US_ASCII);

    private final Socket socket;
    private final OutputStream out;
    private final BufferedReader in;
    private final long base;
    private final List<Long> replyNanos = new ArrayList<>();
    private volatile long last;
    private volatile long acked;
    private volatile long sentAt = -1;
    private volatile boolean stop;
    private volatile Throwable failure;
    private volatile boolean reset;
    private Thread pump;

    private IncrClient(Socket socket) throws IOException {
        this.socket = socket;
        this.out = socket.getOutputStream();
        this.in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
        socket.setSoTimeout(60_000);
        socket.setTcpNoDelay(true);
        this.base = get();
        this.last = base;
    }

    /**
     * Connects from namespace {@code ns} to {@code host:port}, retrying until {@code timeout}
     * (the guest may still be coming up, or a switch may still have a stale MAC entry).
     */
    public static IncrClient connect(String ns, String host, int port, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        IOException lastError = null;
        while (System.nanoTime() < deadline) {
            try {
                Socket s = NetNs.runIn(ns, () -> {
                    Socket c = new Socket();
                    c.connect(new InetSocketAddress(host, port), 3000);
                    return c;
                });
                try {
                    return new IncrClient(s);
                } catch (IOException e) {
                    s.close();
                    throw e;
                }
            } catch (ExecutionException e) {
                lastError = e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
            } catch (IOException e) {
                lastError = e;
            }
            Thread.sleep(200);
        }
        throw new IOException("cannot connect to " + host + ":" + port + " from " + ns + ": "
                + (lastError == null ? "timed out" : lastError.getMessage()), lastError);
    }

    /** One INCR; returns the new value, checked to be the previous one plus one. */
    public synchronized long incr() throws IOException {
        sentAt = System.nanoTime();
        String line;
        try {
            out.write(INCR);
            out.flush();
            line = in.readLine();
        } catch (SocketException e) {
            reset = true;
            throw e;
        }
        long now = System.nanoTime();
        sentAt = -1;
        if (line == null) {
            reset = true;
            throw new IOException("connection closed by the server after " + acked + " acknowledged INCRs");
        }
        if (!line.startsWith(":")) throw new IOException("unexpected reply '" + line + "' to INCR");
        long v = Long.parseLong(line.substring(1));
        if (v != last + 1) {
            throw new IOException("reply " + v + " after " + last + ": " + (v <= last ? "an INCR was counted twice or the state went back"
                    : "an acknowledged INCR was lost or one was counted twice"));
        }
        last = v;
        acked++;
        synchronized (replyNanos) {
            replyNanos.add(now);
        }
        return v;
    }

    /** GET counter (0 when the key does not exist). */
    public synchronized long get() throws IOException {
        out.write(GET);
        out.flush();
        String len = in.readLine();
        if (len == null) throw new IOException("connection closed by the server");
        if (len.equals("$-1")) return 0;
        String value = in.readLine();
        if (value == null) throw new IOException("connection closed by the server");
        return Long.parseLong(value);
    }

    /** INCRs on a thread of its own, {@code pauseMillis} apart, until {@link #stopPump} or a failure. */
    public void startPump(long pauseMillis) {
        stop = false;
        pump = Thread.ofPlatform().name("incr-pump").daemon(true).start(() -> {
            try {
                while (!stop) {
                    incr();
                    if (pauseMillis > 0) Thread.sleep(pauseMillis);
                }
            } catch (Throwable t) {
                failure = t;
            }
        });
    }

    /** Stops the pump after its request in flight is answered (waits up to {@code timeout}). */
    public void stopPump(Duration timeout) throws InterruptedException {
        stop = true;
        if (pump != null) pump.join(timeout.toMillis());
    }

    public boolean pumping() {
        return pump != null && pump.isAlive();
    }

    /** The counter read when the client connected. */
    public long base() {
        return base;
    }

    /** INCRs answered (and checked) on this connection. */
    public long acked() {
        return acked;
    }

    /** The last value the server answered. */
    public long last() {
        return last;
    }

    /** When the request now in flight was sent (System.nanoTime), or -1 if none is. */
    public long outstandingSince() {
        return sentAt;
    }

    /** Whether the connection was reset or closed under the client. */
    public boolean wasReset() {
        return reset;
    }

    /** What stopped the pump, or null. */
    public Throwable failure() {
        return failure;
    }

    /** Replies received at or after {@code nanos} (System.nanoTime). */
    public int repliesSince(long nanos) {
        synchronized (replyNanos) {
            int n = 0;
            for (int i = replyNanos.size() - 1; i >= 0 && replyNanos.get(i) >= nanos; i--) n++;
            return n;
        }
    }

    /** When the first reply at or after {@code nanos} arrived, or -1. */
    public long firstReplyAfter(long nanos) {
        synchronized (replyNanos) {
            for (long t : replyNanos) if (t >= nanos) return t;
            return -1;
        }
    }

    /**
     * When the first reply from the instance that took over arrived: of the replies after
     * {@code killNanos}, the one after the longest silence (replies the dead primary released
     * just before it died may still arrive a moment after the kill). -1 if none.
     */
    public long takeoverReplyAfter(long killNanos) {
        synchronized (replyNanos) {
            long best = -1;
            long gap = -1;
            for (int i = 1; i < replyNanos.size(); i++) {
                long t = replyNanos.get(i);
                if (t < killNanos) continue;
                long g = t - replyNanos.get(i - 1);
                if (g > gap) {
                    gap = g;
                    best = t;
                }
            }
            return best;
        }
    }

    /** When the last reply arrived, or -1. */
    public long lastReplyNanos() {
        synchronized (replyNanos) {
            return replyNanos.isEmpty() ? -1 : replyNanos.get(replyNanos.size() - 1);
        }
    }

    /** The longest time between two consecutive replies, in ms. */
    public double longestGapMillis() {
        synchronized (replyNanos) {
            long gap = 0;
            for (int i = 1; i < replyNanos.size(); i++) gap = Math.max(gap, replyNanos.get(i) - replyNanos.get(i - 1));
            return gap / 1e6;
        }
    }

    /** The longest time between two consecutive replies of which the later came at or after {@code nanos}, in ms. */
    public double longestGapMillisSince(long nanos) {
        synchronized (replyNanos) {
            long gap = 0;
            for (int i = 1; i < replyNanos.size(); i++) {
                if (replyNanos.get(i) >= nanos) gap = Math.max(gap, replyNanos.get(i) - replyNanos.get(i - 1));
            }
            return gap / 1e6;
        }
    }

    @Override
    public void close() throws IOException {
        stop = true;
        socket.close();
    }
}
