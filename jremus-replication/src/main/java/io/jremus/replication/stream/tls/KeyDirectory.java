package io.jremus.replication.stream.tls;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * A directory of TLS keys for one jremus cluster, made with the JDK's {@code keytool}: a private CA,
 * one PKCS#12 keystore per node (EC P-256 key, certificate signed by the CA, CA certificate in the
 * chain) and one truststore holding only the CA certificate. Every node trusts exactly the
 * certificates this CA signed (see docs/stream-format.md §9). Layout:
 *
 * <pre>
 *   ca.p12          the CA's key pair (alias jremus-ca). Keep it off the nodes once keys are made.
 *   ca.crt          the CA certificate, PEM
 *   truststore.p12  the CA certificate as a trusted entry (alias jremus-ca); copy to every node
 *   NODE.p12        NODE's key (alias NODE) and chain [NODE, jremus-ca]; copy to that node only
 *   NODE.crt        NODE's certificate, PEM (for inspection or pinning)
 *   store-password  the password of all the stores above
 *
 * ca.p12, NODE.p12 and store-password are mode 600.
 * </pre>
 *
 * <p>The same with keytool by hand, for a node {@code a} (password in file {@code pw}):
 * <pre>
 *   keytool -genkeypair -alias jremus-ca -keyalg EC -groupname secp256r1 -dname CN=jremus-ca,O=jremus \
 *           -ext bc:c=ca:true,pathlen:0 -ext ku:c=keyCertSign,cRLSign -validity 3650 \
 *           -storetype PKCS12 -keystore ca.p12 -storepass:file pw
 *   keytool -exportcert -rfc -alias jremus-ca -keystore ca.p12 -storepass:file pw -file ca.crt
 *   keytool -importcert -noprompt -alias jremus-ca -file ca.crt -storetype PKCS12 -keystore truststore.p12 -storepass:file pw
 *   keytool -genkeypair -alias a -keyalg EC -groupname secp256r1 -dname CN=a,O=jremus -validity 3650 \
 *           -storetype PKCS12 -keystore a.p12 -storepass:file pw
 *   keytool -certreq -alias a -keystore a.p12 -storepass:file pw -file a.csr
 *   keytool -gencert -alias jremus-ca -keystore ca.p12 -storepass:file pw -infile a.csr -outfile a.crt -rfc \
 *           -validity 3650 -ext ku:c=digitalSignature -ext eku=serverAuth,clientAuth -ext san=dns:a
 *   keytool -importcert -noprompt -alias jremus-ca -file ca.crt -keystore a.p12 -storepass:file pw
 *   keytool -importcert -noprompt -alias a -file a.crt -keystore a.p12 -storepass:file pw
 * </pre>
 */
public final class KeyDirectory {
    public static final String CA_ALIAS = "jremus-ca";
    public static final String CA_KEYSTORE = "ca.p12";
    public static final String CA_CERT = "ca.crt";
    public static final String TRUSTSTORE = "truststore.p12";
    public static final String PASSWORD_FILE = "store-password";
    private static final Pattern NODE = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final long STEP_TIMEOUT_SECONDS = 60;

    private KeyDirectory() {
    }

    /** The keystore of {@code node} in {@code dir}. */
    public static Path keystore(Path dir, String node) {
        return dir.resolve(node + ".p12");
    }

    public static Path truststore(Path dir) {
        return dir.resolve(TRUSTSTORE);
    }

    public static Path passwordFile(Path dir) {
        return dir.resolve(PASSWORD_FILE);
    }

    /** The store password kept in {@code dir}. */
    public static char[] readPassword(Path dir) throws IOException {
        return Files.readString(passwordFile(dir), StandardCharsets.UTF_8).strip().toCharArray();
    }

    /** keytool of the running JDK ({@code java.home}), else of {@code $JAVA_HOME}. */
    public static Path defaultKeytool() {
        Path p = Path.of(System.getProperty("java.home"), "bin", "keytool");
        if (Files.isExecutable(p)) {
            return p;
        }
        String jh = System.getenv("JAVA_HOME");
        return jh != null ? Path.of(jh, "bin", "keytool") : p;
    }

    /**
     * Creates the CA, the truststore and one keystore per node in {@code dir} (created if missing;
     * it must not already hold keys). Returns the files made.
     */
    public static List<Path> init(Path dir, List<String> nodes, Path keytool, int validityDays, Consumer<String> progress)
            throws KeyToolException {
        Objects.requireNonNull(dir, "dir");
        checkNodes(nodes);
        if (validityDays < 1) {
            throw new KeyToolException("--validity-days must be at least 1, not " + validityDays);
        }
        if (!Files.isExecutable(keytool)) {
            throw new KeyToolException("keytool not found at " + keytool + " (it comes with the JDK; set JAVA_HOME)");
        }
        List<Path> made = new ArrayList<>();
        try {
            Files.createDirectories(dir);
            for (String f : List.of(CA_KEYSTORE, TRUSTSTORE, PASSWORD_FILE)) {
                if (Files.exists(dir.resolve(f))) {
                    throw new KeyToolException(dir + " already holds keys (" + f + "); refusing to overwrite them");
                }
            }
            for (String n : nodes) {
                if (Files.exists(keystore(dir, n))) {
                    throw new KeyToolException(dir + " already holds keys (" + n + ".p12); refusing to overwrite them");
                }
            }
            Path pw = passwordFile(dir);
            byte[] secret = new byte[18];
            new SecureRandom().nextBytes(secret);
            Files.createFile(pw, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(pw, Base64.getUrlEncoder().withoutPadding().encodeToString(secret) + "\n");
            made.add(pw);
        } catch (FileAlreadyExistsException e) {
            throw new KeyToolException(dir + " already holds keys (" + e.getFile() + "); refusing to overwrite them");
        } catch (IOException e) {
            throw new KeyToolException("cannot write to " + dir + ": " + e.getMessage());
        }
        String pw = "-storepass:file";
        String pwFile = passwordFile(dir).toString();
        String days = Integer.toString(validityDays);
        Runner k = new Runner(keytool, dir);

        progress.accept("CA: " + dir.resolve(CA_KEYSTORE));
        k.run("CA key pair", "-genkeypair", "-alias", CA_ALIAS, "-keyalg", "EC", "-groupname", "secp256r1", "-sigalg", "SHA256withECDSA",
                "-dname", "CN=jremus-ca,O=jremus", "-ext", "bc:c=ca:true,pathlen:0", "-ext", "ku:c=keyCertSign,cRLSign",
                "-validity", days, "-storetype", "PKCS12", "-keystore", CA_KEYSTORE, pw, pwFile);
        k.run("CA certificate export", "-exportcert", "-rfc", "-alias", CA_ALIAS, "-keystore", CA_KEYSTORE, pw, pwFile, "-file", CA_CERT);
        k.run("truststore", "-importcert", "-noprompt", "-alias", CA_ALIAS, "-file", CA_CERT, "-storetype", "PKCS12",
                "-keystore", TRUSTSTORE, pw, pwFile);
        made.add(dir.resolve(CA_KEYSTORE));
        made.add(dir.resolve(CA_CERT));
        made.add(dir.resolve(TRUSTSTORE));
        for (String n : nodes) {
            progress.accept("node " + n + ": " + keystore(dir, n));
            String ks = n + ".p12";
            String csr = n + ".csr";
            k.run("key pair of node " + n, "-genkeypair", "-alias", n, "-keyalg", "EC", "-groupname", "secp256r1", "-sigalg", "SHA256withECDSA",
                    "-dname", "CN=" + n + ",O=jremus", "-validity", days, "-storetype", "PKCS12", "-keystore", ks, pw, pwFile);
            k.run("certificate request of node " + n, "-certreq", "-alias", n, "-keystore", ks, pw, pwFile, "-file", csr);
            k.run("certificate of node " + n, "-gencert", "-alias", CA_ALIAS, "-keystore", CA_KEYSTORE, pw, pwFile, "-infile", csr,
                    "-outfile", n + ".crt", "-rfc", "-validity", days, "-sigalg", "SHA256withECDSA",
                    "-ext", "ku:c=digitalSignature", "-ext", "eku=serverAuth,clientAuth", "-ext", "san=dns:" + n);
            k.run("CA certificate into node " + n, "-importcert", "-noprompt", "-alias", CA_ALIAS, "-file", CA_CERT, "-keystore", ks, pw, pwFile);
            k.run("signed certificate into node " + n, "-importcert", "-noprompt", "-alias", n, "-file", n + ".crt", "-keystore", ks, pw, pwFile);
            try {
                Files.deleteIfExists(dir.resolve(csr));
            } catch (IOException ignored) {
                // a leftover request is harmless
            }
            made.add(keystore(dir, n));
            made.add(dir.resolve(n + ".crt"));
        }
        for (Path p : made) {
            if (p.getFileName().toString().endsWith(".p12") && !p.endsWith(TRUSTSTORE)) {
                ownerOnly(p); // private keys: the password protects them, the mode keeps them out of sight too
            }
        }
        return made;
    }

    private static void ownerOnly(Path p) throws KeyToolException {
        try {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException | UnsupportedOperationException e) {
            throw new KeyToolException("cannot make " + p + " private (mode 600): " + e.getMessage());
        }
    }

    private static void checkNodes(List<String> nodes) throws KeyToolException {
        if (nodes == null || nodes.isEmpty()) {
            throw new KeyToolException("no node names given (e.g. --nodes a,b,witness)");
        }
        var seen = new HashSet<String>();
        for (String n : nodes) {
            if (!NODE.matcher(n).matches() || n.equals(CA_ALIAS) || n.equals("ca") || n.equals("truststore")) {
                throw new KeyToolException("node name '" + n + "' must be lower-case letters, digits and inner '-' (at most 63), and not ca or truststore");
            }
            if (!seen.add(n)) {
                throw new KeyToolException("node name '" + n + "' given twice");
            }
        }
    }

    /** Runs keytool steps in the key directory; a failing step becomes one line. */
    private record Runner(Path keytool, Path dir) {
        void run(String step, String... args) throws KeyToolException {
            List<String> cmd = new ArrayList<>();
            cmd.add(keytool.toString());
            cmd.addAll(List.of(args));
            try {
                Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
                p.getOutputStream().close(); // no prompts: keytool must not wait for a terminal
                byte[] out = p.getInputStream().readAllBytes();
                if (!p.waitFor(STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new KeyToolException("keytool (" + step + ") did not finish in " + STEP_TIMEOUT_SECONDS + " s");
                }
                if (p.exitValue() != 0) {
                    String text = new String(out, StandardCharsets.UTF_8).strip();
                    String first = text.isEmpty() ? "(no output)" : text.lines().filter(l -> !l.isBlank()).findFirst().orElse(text);
                    throw new KeyToolException("keytool (" + step + ") failed with status " + p.exitValue() + ": " + first);
                }
            } catch (IOException e) {
                throw new KeyToolException("cannot run " + keytool + " (" + step + "): " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new KeyToolException("interrupted while running keytool (" + step + ")");
            }
        }
    }
}
