package io.jremus.replication.stream.tls;

import io.jremus.replication.stream.StreamException;

import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;

/**
 * TLS 1.3 sockets with mutual authentication for the replication link (docs/stream-format.md §9).
 * Built from this node's PKCS#12 keystore (its key and certificate chain) and a PKCS#12 truststore
 * (the cluster CA, or pinned peer certificates); the JDK's default CAs are never consulted. Both
 * ends present a certificate and both require one. Host names are not checked: a peer is who its
 * certificate says, and only certificates the truststore accepts get through.
 *
 * <p>A peer that fails authentication is reported as {@link StreamException.Kind#AUTH}. In TLS 1.3
 * the client finishes its handshake before the server has judged the client's certificate, so a
 * refused client sees the refusal on its first read, not in {@link #connect}.
 */
public final class SecureChannels {
    /** The only protocol offered or accepted. */
    public static final String PROTOCOL = "TLSv1.3";

    private final SSLContext context;

    private SecureChannels(SSLContext context) {
        this.context = context;
    }

    /** From a keystore and a truststore with the same password. */
    public static SecureChannels fromStores(Path keystore, Path truststore, char[] password) throws IOException {
        try {
            KeyStore ks = load(keystore, password);
            KeyStore ts = load(truststore, password);
            if (!ts.aliases().hasMoreElements()) {
                throw new IOException("truststore " + truststore + " is empty: no peer could be authenticated");
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
            kmf.init(ks, password);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(ts);
            SSLContext ctx = SSLContext.getInstance(PROTOCOL);
            ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), new SecureRandom());
            return new SecureChannels(ctx);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot set up TLS from " + keystore + " and " + truststore + ": " + e.getMessage(), e);
        }
    }

    /** For node {@code node} of a directory made by {@link KeyDirectory#init}. */
    public static SecureChannels forNode(Path keysDir, String node) throws IOException {
        char[] pw = KeyDirectory.readPassword(keysDir);
        try {
            return fromStores(KeyDirectory.keystore(keysDir, node), KeyDirectory.truststore(keysDir), pw);
        } finally {
            Arrays.fill(pw, '\0');
        }
    }

    private static KeyStore load(Path p, char[] password) throws IOException, GeneralSecurityException {
        if (!Files.isReadable(p)) {
            throw new IOException("cannot read " + p);
        }
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(p)) {
            ks.load(in, password);
        } catch (IOException e) {
            throw new IOException("cannot open " + p + " (wrong password or not PKCS#12): " + e.getMessage(), e);
        }
        return ks;
    }

    /** A listening socket that demands a client certificate. */
    public SSLServerSocket listen(InetSocketAddress bind) throws IOException {
        SSLServerSocket s = (SSLServerSocket) context.getServerSocketFactory().createServerSocket();
        s.setReuseAddress(true);
        s.bind(bind);
        s.setEnabledProtocols(new String[]{PROTOCOL});
        s.setNeedClientAuth(true);
        return s;
    }

    /**
     * Accepts one connection and completes the handshake within {@code handshakeTimeout}, so an
     * unauthenticated or silent peer cannot hold the listener.
     *
     * @throws StreamException kind AUTH when the peer presents no certificate or one the truststore refuses
     */
    public SSLSocket accept(SSLServerSocket server, Duration handshakeTimeout) throws IOException {
        SSLSocket s = (SSLSocket) server.accept();
        handshake(s, handshakeTimeout, "client");
        return s;
    }

    /**
     * Connects and completes the handshake (the server's certificate is checked here).
     *
     * @throws StreamException kind AUTH when the server's certificate is refused
     */
    public SSLSocket connect(InetSocketAddress peer, Duration timeout) throws IOException {
        SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket();
        try {
            s.setEnabledProtocols(new String[]{PROTOCOL});
            s.connect(peer, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        } catch (IOException e) {
            s.close();
            throw e;
        }
        handshake(s, timeout, "server");
        return s;
    }

    private static void handshake(SSLSocket s, Duration timeout, String role) throws IOException {
        Objects.requireNonNull(timeout, "timeout");
        Object peer = s.getRemoteSocketAddress();
        try {
            s.setTcpNoDelay(true);
            s.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis())));
            s.startHandshake();
            s.setSoTimeout(0);
        } catch (SSLException e) {
            closeQuietly(s);
            throw new StreamException(StreamException.Kind.AUTH, "TLS " + role + " " + peer + " refused: " + e.getMessage(), e);
        } catch (IOException e) {
            closeQuietly(s);
            throw e;
        }
    }

    /** The common name (CN) of the authenticated peer's certificate: the node name. */
    public static String peerName(SSLSocket s) throws IOException {
        try {
            Certificate[] chain = s.getSession().getPeerCertificates();
            X509Certificate leaf = (X509Certificate) chain[0];
            for (Rdn rdn : new LdapName(leaf.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return rdn.getValue().toString();
                }
            }
            throw new StreamException(StreamException.Kind.AUTH, "peer certificate " + leaf.getSubjectX500Principal() + " has no CN");
        } catch (SSLPeerUnverifiedException e) {
            throw new StreamException(StreamException.Kind.AUTH, "peer is not authenticated", e);
        } catch (InvalidNameException e) {
            throw new StreamException(StreamException.Kind.AUTH, "peer certificate subject unreadable: " + e.getMessage(), e);
        }
    }

    public SSLContext context() {
        return context;
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already failing
        }
    }
}
