package io.jremus.cluster.witness;

import io.jremus.cluster.NanoClock;
import io.jremus.replication.failover.Grant;
import io.jremus.replication.failover.Grant.Outcome;
import io.jremus.replication.failover.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The witness over real loopback TCP. */
class WitnessServerTest {
    private static final Duration LEASE = Duration.ofMillis(60_000);
    private static final Duration T = Duration.ofSeconds(5);

    private static InetSocketAddress loopback() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    }

    @Test
    void shouldGrantAndRefuseOverTheWire(@TempDir Path dir) throws IOException {
        WitnessLedger ledger = new WitnessLedger(LEASE, NanoClock.system(), new FileTermStore(dir.resolve("w")));
        try (WitnessServer server = WitnessServer.start(ledger, loopback());
             WitnessClient a = new WitnessClient(server.address(), LEASE);
             WitnessClient b = new WitnessClient(server.address(), LEASE)) {
            Grant ga = a.request("vm1", "host-a", Role.PRIMARY, 0, T);
            assertThat(ga.outcome()).isEqualTo(Outcome.GRANTED);
            assertThat(ga.term()).isEqualTo(1);
            assertThat(ga.lease()).isEqualTo(LEASE);
            Grant gb = b.request("vm1", "host-b", Role.ACTIVE, 1, T);
            assertThat(gb.outcome()).isEqualTo(Outcome.BUSY);
            assertThat(gb.holder()).isEqualTo("host-a");
            assertThat(gb.role()).isEqualTo(Role.PRIMARY);
            assertThat(gb.retryAfter()).isPositive();
            assertThat(gb.reason()).contains("host-a holds term 1");
            Grant alone = a.request("vm1", "host-a", Role.ACTIVE, 1, T);
            assertThat(alone.term()).isEqualTo(2);
            assertThat(b.request("vm1", "host-b", Role.ACTIVE, 1, T).outcome()).isEqualTo(Outcome.REFUSED);
        }
    }

    @Test
    void shouldAnswerAMalformedRequestWithAnErrorLineAndClose() throws IOException {
        WitnessLedger ledger = new WitnessLedger(LEASE, NanoClock.system(), TermStore.inMemory());
        try (WitnessServer server = WitnessServer.start(ledger, loopback());
             Socket s = new Socket(server.address().getAddress(), server.address().getPort())) {
            OutputStream out = s.getOutputStream();
            out.write("jrw1 req 5 vm/../1 a 2 0\n".getBytes(StandardCharsets.US_ASCII));
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            String line = in.readLine();
            assertThat(line).startsWith("jrw1 err - vm id 'vm/../1' is not");
            assertThat(in.readLine()).isNull();
        }
        assertThat(ledger.snapshot()).isEmpty();
    }

    @Test
    void shouldCloseAConnectionSendingAnOverlongLine() throws IOException {
        WitnessLedger ledger = new WitnessLedger(LEASE, NanoClock.system(), TermStore.inMemory());
        try (WitnessServer server = WitnessServer.start(ledger, loopback());
             Socket s = new Socket(server.address().getAddress(), server.address().getPort())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(new byte[WitnessProtocol.MAX_LINE * 4]);
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        }
    }

    @Test
    void shouldReportUnreachableWhenNothingListensAndReconnectWhenTheWitnessIsBack(@TempDir Path dir) throws IOException {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        InetSocketAddress addr = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        try (WitnessClient c = new WitnessClient(addr, LEASE)) {
            Grant g = c.request("vm1", "host-a", Role.ACTIVE, 0, Duration.ofMillis(500));
            assertThat(g.outcome()).isEqualTo(Outcome.UNREACHABLE);
            assertThat(g.granted()).isFalse();
            assertThat(g.reason()).contains("127.0.0.1:" + port).contains("refused");

            WitnessLedger ledger = new WitnessLedger(LEASE, NanoClock.system(), new FileTermStore(dir.resolve("w")));
            try (WitnessServer server = WitnessServer.start(ledger, addr)) {
                assertThat(c.request("vm1", "host-a", Role.ACTIVE, 0, T).outcome()).isEqualTo(Outcome.GRANTED);
            }
            // the witness went away: the old connection is dead, the client says so and does not hang
            assertThat(c.request("vm1", "host-a", Role.ACTIVE, 1, Duration.ofMillis(500)).outcome()).isEqualTo(Outcome.UNREACHABLE);
            // a restarted witness (same file) keeps the term and the holder
            WitnessLedger again = new WitnessLedger(LEASE, NanoClock.system(), new FileTermStore(dir.resolve("w")));
            try (WitnessServer server = WitnessServer.start(again, addr)) {
                Grant renewed = c.request("vm1", "host-a", Role.ACTIVE, 1, T);
                assertThat(renewed.outcome()).isEqualTo(Outcome.GRANTED);
                assertThat(renewed.term()).isEqualTo(1);
            }
        }
    }

    @Test
    void shouldTimeOutWithUnreachableWhenTheWitnessDoesNotAnswer() throws IOException {
        try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             WitnessClient c = new WitnessClient((InetSocketAddress) silent.getLocalSocketAddress(), LEASE)) {
            long t0 = System.nanoTime();
            Grant g = c.request("vm1", "host-a", Role.ACTIVE, 0, Duration.ofMillis(300));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertThat(g.outcome()).isEqualTo(Outcome.UNREACHABLE);
            assertThat(ms).isBetween(250L, 3000L);
        }
    }
}
