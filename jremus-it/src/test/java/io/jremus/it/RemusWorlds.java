package io.jremus.it;

import io.jremus.cli.testbed.IncrClient;
import io.jremus.cli.testbed.RemusWorld;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Shared set-up of the Remus system tests: skip (saying why) where KVM, root, namespaces or
 * redis-tools are missing, and a {@link RemusWorld} per test class with its own testbed name,
 * keys and witness state in the class's temporary directory.
 */
final class RemusWorlds {
    private RemusWorlds() {
    }

    /** Skips the calling test unless this host can run the Remus world. */
    static void requireWorld() {
        TestGuest.requireKvm();
        String why = RemusWorld.unavailableReason();
        assumeTrue(why == null, "skipped: " + why);
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/redis-cli")), "skipped: redis-tools is not installed (scripts/setup-host.sh installs it)");
    }

    private static Path sharedKeys;

    /**
     * TLS keys made once per test JVM (keytool takes ~15 s) and copied into each world's own
     * directory, so every test class still has its own keys directory.
     */
    private static synchronized Path sharedKeys() throws IOException {
        if (sharedKeys == null) {
            Path d = Files.createTempDirectory("jremus-it-keys").resolve("keys");
            RemusWorld.makeKeys(d, java.util.List.of("a", "b", "witness"));
            sharedKeys = d;
        }
        return sharedKeys;
    }

    /** Builds the world {@code name} (a testbed prefix unique to the test class) in {@code dir}. */
    static RemusWorld up(String name, Path dir) throws IOException, InterruptedException {
        requireWorld();
        Path keys = dir.resolve("keys");
        Files.createDirectories(keys);
        try (var files = Files.list(sharedKeys())) {
            for (Path f : files.toList()) Files.copy(f, keys.resolve(f.getFileName()));
        }
        return RemusWorld.up(RemusWorld.Settings.of(name, dir, TestGuest.repoRoot(), TestGuest.elf())
                .withLog(l -> System.err.println(LocalTime.now() + " [" + name + "] " + l)));
    }

    /** The client pumps INCRs; waits until it has {@code n} more acknowledged than now (or fails). */
    static void awaitMoreAcks(IncrClient c, long n, Duration timeout) throws InterruptedException {
        long target = c.acked() + n;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (c.acked() < target && c.failure() == null && System.nanoTime() < deadline) Thread.sleep(10);
        assertThat(c.failure()).as("the client failed").isNull();
        assertThat(c.acked()).as("acknowledged INCRs within " + timeout).isGreaterThanOrEqualTo(target);
    }

    /** Stops the pump and checks the exactness condition: counter == base + acknowledged, no reset. */
    static void assertExact(IncrClient c, String context) throws Exception {
        c.stopPump(Duration.ofSeconds(30));
        assertThat(c.failure()).as("client failure; " + context).isNull();
        assertThat(c.wasReset()).as("the connection was reset; " + context).isFalse();
        assertThat(c.get()).as("server counter vs acknowledged INCRs; " + context).isEqualTo(c.base() + c.acked());
    }
}
