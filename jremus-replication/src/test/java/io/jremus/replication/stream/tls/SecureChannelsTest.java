package io.jremus.replication.stream.tls;

import io.jremus.replication.stream.BackHeader;
import io.jremus.replication.stream.RecordReader;
import io.jremus.replication.stream.RecordType;
import io.jremus.replication.stream.RecordView;
import io.jremus.replication.stream.RecordWriter;
import io.jremus.replication.stream.StreamDirection;
import io.jremus.replication.stream.StreamException;
import io.jremus.replication.stream.StreamHeader;
import io.jremus.replication.stream.StreamLimits;
import io.jremus.replication.stream.page.PageEncoder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/** Mutual TLS 1.3 on loopback with keys made by {@link KeyDirectory} (runs the JDK's keytool). */
class SecureChannelsTest {
    private static final Duration T = Duration.ofSeconds(10);
    @TempDir
    static Path tmp;
    static Path keys;
    static Path otherKeys;

    @BeforeAll
    static void makeKeys() throws Exception {
        keys = tmp.resolve("cluster");
        otherKeys = tmp.resolve("other-cluster");
        List<Path> made = KeyDirectory.init(keys, List.of("a", "b", "witness"), KeyDirectory.defaultKeytool(), 30, s -> { });
        assertThat(made).contains(keys.resolve("a.p12"), keys.resolve("b.p12"), keys.resolve("witness.p12"), keys.resolve("truststore.p12"));
        KeyDirectory.init(otherKeys, List.of("a"), KeyDirectory.defaultKeytool(), 30, s -> { });
    }

    private static InetSocketAddress loopback() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    }

    @Test
    void shouldHandshakeBetweenTwoNodesOfOneKeysDirAndCarryAStream() throws Exception {
        SecureChannels backup = SecureChannels.forNode(keys, "b");
        SecureChannels primary = SecureChannels.forNode(keys, "a");
        StreamHeader header = new StreamHeader(UUID.randomUUID(), 1, new byte[32], List.of(new StreamHeader.Region(0, 1 << 20)));
        try (SSLServerSocket server = backup.listen(loopback())) {
            CompletableFuture<String> backupSide = CompletableFuture.supplyAsync(() -> {
                try (SSLSocket s = backup.accept(server, T)) {
                    assertThat(s.getSession().getProtocol()).isEqualTo("TLSv1.3");
                    RecordReader r = RecordReader.of(s.getInputStream(), StreamDirection.FORWARD, StreamLimits.defaults());
                    StreamHeader h = r.readHeader();
                    RecordWriter back = new RecordWriter(s.getOutputStream(), StreamLimits.defaults(), PageEncoder.create(PageEncoder.Policy.FAST));
                    back.writeBackHeader(new BackHeader(h.sessionId()));
                    RecordView v;
                    while ((v = r.next()) != null) {
                        if (v.type() == RecordType.CHECKPOINT_END) {
                            back.writeAck(v.epoch());
                        }
                    }
                    return SecureChannels.peerName(s);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            try (SSLSocket c = primary.connect((InetSocketAddress) server.getLocalSocketAddress(), T);
                 Arena arena = Arena.ofConfined()) {
                assertThat(SecureChannels.peerName(c)).isEqualTo("b");
                RecordWriter w = new RecordWriter(c.getOutputStream(), StreamLimits.defaults(), PageEncoder.create(PageEncoder.Policy.FAST));
                w.writeHeader(header);
                w.beginCheckpoint(1);
                w.writePage(3, arena.allocate(4096), null);
                w.endCheckpoint();
                RecordReader acks = RecordReader.of(c.getInputStream(), StreamDirection.BACK, StreamLimits.defaults());
                acks.readBackHeader(header.sessionId());
                assertThat(acks.next().epoch()).isEqualTo(1);
                w.writeStreamEnd();
            }
            assertThat(backupSide.get(20, TimeUnit.SECONDS)).isEqualTo("a");
        }
    }

    @Test
    void shouldRefuseAClientWithoutACertificate() throws Exception {
        SecureChannels backup = SecureChannels.forNode(keys, "b");
        // A client that trusts the cluster CA but has no key of its own.
        SSLContext noCert = SSLContext.getInstance("TLSv1.3");
        var tmf = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
        var ts = java.security.KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(KeyDirectory.truststore(keys))) {
            ts.load(in, KeyDirectory.readPassword(keys));
        }
        tmf.init(ts);
        noCert.init(null, tmf.getTrustManagers(), null);
        try (SSLServerSocket server = backup.listen(loopback())) {
            CompletableFuture<SSLSocket> accepted = CompletableFuture.supplyAsync(() -> {
                try {
                    return backup.accept(server, T);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            try (SSLSocket c = (SSLSocket) noCert.getSocketFactory().createSocket()) {
                c.connect(server.getLocalSocketAddress(), 5000);
                c.setSoTimeout(5000);
                c.setEnabledProtocols(new String[]{"TLSv1.3"});
                Throwable clientSide = catchThrowable(() -> {
                    c.startHandshake();
                    c.getOutputStream().write(StreamHeader.class.getSimpleName().getBytes());
                    c.getOutputStream().flush();
                    if (c.getInputStream().read() < 0) {
                        throw new IOException("closed by the server");
                    }
                });
                assertThat(clientSide).isInstanceOf(IOException.class);
            }
            assertAuthRefusal(accepted);
        }
    }

    @Test
    void shouldRefuseAClientWithACertificateFromAnotherKeysDir() throws Exception {
        SecureChannels backup = SecureChannels.forNode(keys, "b");
        SecureChannels stranger = SecureChannels.forNode(otherKeys, "a");
        try (SSLServerSocket server = backup.listen(loopback())) {
            CompletableFuture<SSLSocket> accepted = CompletableFuture.supplyAsync(() -> {
                try {
                    return backup.accept(server, T);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            // The stranger does not trust this cluster's CA either: its own handshake fails too.
            assertThatThrownBy(() -> stranger.connect((InetSocketAddress) server.getLocalSocketAddress(), T))
                    .isInstanceOfSatisfying(StreamException.class, e -> assertThat(e.kind()).isEqualTo(StreamException.Kind.AUTH));
            assertAuthRefusal(accepted);
        }
    }

    @Test
    void shouldRefuseAServerWithACertificateFromAnotherKeysDir() throws Exception {
        SecureChannels stranger = SecureChannels.forNode(otherKeys, "a");
        SecureChannels primary = SecureChannels.forNode(keys, "a");
        try (SSLServerSocket server = stranger.listen(loopback())) {
            CompletableFuture.runAsync(() -> {
                try (SSLSocket s = stranger.accept(server, T)) {
                    s.getInputStream().read();
                } catch (IOException expected) {
                    // refused either way
                }
            });
            assertThatThrownBy(() -> primary.connect((InetSocketAddress) server.getLocalSocketAddress(), T))
                    .isInstanceOfSatisfying(StreamException.class, e -> assertThat(e.kind()).isEqualTo(StreamException.Kind.AUTH))
                    .hasMessageContaining("TLS server");
        }
    }

    @Test
    void shouldRefuseAForgedStreamOverAnAuthenticatedChannel() throws Exception {
        SecureChannels backup = SecureChannels.forNode(keys, "b");
        SecureChannels witness = SecureChannels.forNode(keys, "witness"); // right TLS, wrong content
        try (SSLServerSocket server = backup.listen(loopback())) {
            CompletableFuture<Throwable> backupSide = CompletableFuture.supplyAsync(() -> {
                try (SSLSocket s = backup.accept(server, T)) {
                    return catchThrowable(() -> RecordReader.of(s.getInputStream(), StreamDirection.FORWARD, StreamLimits.defaults()).readHeader());
                } catch (IOException e) {
                    return e;
                }
            });
            try (SSLSocket c = witness.connect((InetSocketAddress) server.getLocalSocketAddress(), T)) {
                OutputStream out = c.getOutputStream();
                out.write("GET / HTTP/1.1\r\nHost: backup\r\n\r\n".getBytes());
                out.flush();
                Throwable t = backupSide.get(20, TimeUnit.SECONDS);
                assertThat(t).isInstanceOfSatisfying(StreamException.class, e -> assertThat(e.kind()).isEqualTo(StreamException.Kind.HEADER))
                        .hasMessageContaining("bad magic");
            }
        }
    }

    @Test
    void shouldRefuseToOverwriteAKeysDirAndExplainBadNodeNames() {
        assertThatThrownBy(() -> KeyDirectory.init(keys, List.of("c"), KeyDirectory.defaultKeytool(), 30, s -> { }))
                .isInstanceOf(KeyToolException.class).hasMessageContaining("already holds keys (ca.p12); refusing to overwrite them");
        assertThatThrownBy(() -> KeyDirectory.init(tmp.resolve("x"), List.of("A_1"), KeyDirectory.defaultKeytool(), 30, s -> { }))
                .isInstanceOf(KeyToolException.class).hasMessageContaining("node name 'A_1' must be lower-case");
        assertThatThrownBy(() -> KeyDirectory.init(tmp.resolve("y"), List.of("a"), tmp.resolve("no-keytool"), 30, s -> { }))
                .isInstanceOf(KeyToolException.class).hasMessageContaining("keytool not found at");
    }

    @Test
    void shouldKeepPrivateKeysAndThePasswordReadableByTheirOwnerOnly() throws Exception {
        for (Path p : List.of(KeyDirectory.passwordFile(keys), keys.resolve("ca.p12"), KeyDirectory.keystore(keys, "a"))) {
            assertThat(Files.getPosixFilePermissions(p).toString()).as(p.toString()).isEqualTo("[OWNER_READ, OWNER_WRITE]");
        }
    }

    private static void assertAuthRefusal(CompletableFuture<?> accepted) throws InterruptedException, java.util.concurrent.TimeoutException {
        Throwable t = catchThrowable(() -> accepted.get(20, TimeUnit.SECONDS));
        assertThat(t).isInstanceOf(ExecutionException.class);
        Throwable cause = t.getCause().getCause();
        assertThat(cause).isInstanceOfSatisfying(StreamException.class, e -> assertThat(e.kind()).isEqualTo(StreamException.Kind.AUTH))
                .hasMessageContaining("TLS client");
    }
}
