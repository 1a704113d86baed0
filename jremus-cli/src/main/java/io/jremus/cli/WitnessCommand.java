package io.jremus.cli;

import io.jremus.cluster.NanoClock;
import io.jremus.cluster.witness.FileTermStore;
import io.jremus.cluster.witness.WitnessLedger;
import io.jremus.cluster.witness.WitnessServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code jremus witness}: the embedded arbiter, a small third process that grants the right to
 * run a VM alone to one node at a time under a numbered term (docs/witness.md). Runs until
 * killed; the term file survives restarts.
 */
@Command(name = "witness", mixinStandardHelpOptions = true,
        description = "Run the witness: grants one node at a time the right to run a VM alone (see docs/witness.md).")
public final class WitnessCommand implements Callable<Integer> {
    @Option(names = "--listen", required = true, paramLabel = "HOST:PORT", description = "Address to listen on, e.g. 10.99.0.1:7070.")
    String listen;
    @Option(names = "--state", required = true, paramLabel = "FILE", description = "Term file (created if missing; fsync'd on every change).")
    Path state;
    @Option(names = "--lease-ms", defaultValue = "1000", description = "Lease a grant lasts without renewal (default ${DEFAULT-VALUE} ms).")
    long leaseMs;

    @Override
    public Integer call() throws Exception {
        if (leaseMs < 10 || leaseMs > 600_000) throw new UserException("--lease-ms must be 10..600000, got " + leaseMs);
        InetSocketAddress addr = parseHostPort(listen);
        WitnessLedger ledger;
        try {
            ledger = new WitnessLedger(Duration.ofMillis(leaseMs), NanoClock.system(), new FileTermStore(state));
        } catch (IOException e) {
            throw new UserException("cannot read the witness state: " + e.getMessage());
        }
        WitnessServer server;
        try {
            server = WitnessServer.start(ledger, addr);
        } catch (IOException e) {
            throw new UserException(e.getMessage());
        }
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stop.countDown();
        }));
        System.out.println("jremus witness: listening on " + server.address() + ", lease " + leaseMs + " ms, state " + state.toAbsolutePath()
                + " (" + ledger.snapshot().size() + " VMs known)");
        stop.await();
        return 0;
    }

    /** HOST:PORT, with [v6]:PORT accepted; a clear one-line error otherwise. */
    static InetSocketAddress parseHostPort(String s) {
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) throw new UserException("expected HOST:PORT, got '" + s + "'");
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        int port;
        try {
            port = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new UserException("port in '" + s + "' is not a number");
        }
        if (port < 0 || port > 65535) throw new UserException("port " + port + " is out of range");
        InetSocketAddress a = new InetSocketAddress(host, port);
        if (a.isUnresolved()) throw new UserException("cannot resolve host '" + host + "'");
        return a;
    }
}
