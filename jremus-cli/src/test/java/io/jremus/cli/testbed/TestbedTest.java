package io.jremus.cli.testbed;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The one-machine world, built for real (root and 'ip netns'; skipped otherwise). */
class TestbedTest {
    @BeforeAll
    static void needNamespaces(@TempDir Path run) {
        String why = Testbed.unavailableReason();
        Assumptions.assumeTrue(why == null, "skipped: " + why);
        System.setProperty("jremus.testbed.run", run.toString());
    }

    private static String uniqueName() {
        return "jt" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x10000, 0xFFFFF));
    }

    private static boolean ping(Testbed t, String ns, String ip) throws IOException, InterruptedException {
        return t.exec(ns, 10, "ping", "-c", "1", "-W", "1", "-q", ip).status() == 0;
    }

    private static List<String> netnsList() throws IOException, InterruptedException {
        return Sh.ip("netns", "list").output().lines().map(l -> l.split(" ")[0]).toList();
    }

    @Test
    void shouldConnectEachLinkAndCutTheReplicationLinkAloneAndLeaveNothingBehind() throws Exception {
        String name = uniqueName();
        Testbed t = Testbed.up(name);
        try {
            // the guest segment: client, both hosts, the segment bridge
            assertThat(ping(t, t.clientNs(), Testbed.SEGMENT_IP)).isTrue();
            assertThat(ping(t, t.clientNs(), Testbed.HOST_A_SEGMENT_IP)).isTrue();
            assertThat(ping(t, t.clientNs(), Testbed.HOST_B_SEGMENT_IP)).isTrue();
            // the replication link
            assertThat(ping(t, t.hostANs(), Testbed.HOST_B_REPL_IP)).isTrue();
            assertThat(ping(t, t.hostBNs(), Testbed.HOST_A_REPL_IP)).isTrue();
            // the witness links
            assertThat(ping(t, t.hostANs(), Testbed.WITNESS_IP)).isTrue();
            assertThat(ping(t, t.hostBNs(), Testbed.WITNESS_IP)).isTrue();
            assertThat(ping(t, t.witnessNs(), Testbed.HOST_A_WITNESS_IP)).isTrue();
            // separate networks: the client cannot reach replication or witness addresses
            assertThat(ping(t, t.clientNs(), Testbed.HOST_A_REPL_IP)).isFalse();
            assertThat(ping(t, t.clientNs(), Testbed.WITNESS_IP)).isFalse();
            // the TAP exists on both hosts
            assertThat(t.exec(t.hostANs(), 10, "ip", "-o", "link", "show", "dev", Testbed.TAP).output()).contains("master br0");
            assertThat(t.exec(t.hostBNs(), 10, "ip", "-o", "link", "show", "dev", Testbed.TAP).output()).contains("master br0");

            t.cut(Testbed.Link.REPLICATION);
            assertThat(ping(t, t.hostANs(), Testbed.HOST_B_REPL_IP)).isFalse();
            assertThat(t.status().cut()).containsExactly(Testbed.Link.REPLICATION);
            assertThat(ping(t, t.clientNs(), Testbed.HOST_A_SEGMENT_IP)).isTrue();
            assertThat(ping(t, t.hostANs(), Testbed.HOST_B_SEGMENT_IP)).as("the hosts still meet on the segment").isTrue();
            assertThat(ping(t, t.hostANs(), Testbed.WITNESS_IP)).isTrue();
            t.heal(Testbed.Link.REPLICATION);
            assertThat(ping(t, t.hostANs(), Testbed.HOST_B_REPL_IP)).isTrue();

            t.isolate("b");
            assertThat(ping(t, t.clientNs(), Testbed.HOST_B_SEGMENT_IP)).isFalse();
            assertThat(ping(t, t.hostBNs(), Testbed.WITNESS_IP)).isFalse();
            assertThat(ping(t, t.clientNs(), Testbed.HOST_A_SEGMENT_IP)).isTrue();
            t.rejoin("b");
            assertThat(ping(t, t.clientNs(), Testbed.HOST_B_SEGMENT_IP)).isTrue();

            // up again: the complete world is reused, nothing is rebuilt or broken
            Testbed again = Testbed.up(name);
            assertThat(again.status().complete()).isTrue();
            assertThat(ping(t, t.hostANs(), Testbed.HOST_B_REPL_IP)).isTrue();
        } finally {
            t.down();
        }
        assertThat(netnsList()).doesNotContainAnyElementsOf(t.namespaces());
        assertThat(t.status().empty()).isTrue();
        assertThat(t.down()).as("down twice is harmless").isEmpty();
    }

    @Test
    void shouldTearDownAPartialWorldAndRebuildItOnUp() throws Exception {
        String name = uniqueName();
        Testbed t = Testbed.of(name);
        try {
            Sh.ipOrThrow("netns", "add", t.hostANs());
            Sh.ipOrThrow("netns", "add", t.segmentNs());
            Testbed.Status s = t.status();
            assertThat(s.complete()).isFalse();
            assertThat(s.existing()).containsOnlyKeys(t.hostANs(), t.segmentNs());
            Testbed.up(name);
            assertThat(t.status().complete()).isTrue();
            assertThat(ping(t, t.clientNs(), Testbed.HOST_A_SEGMENT_IP)).isTrue();
            t.down();
            Sh.ipOrThrow("netns", "add", t.witnessNs());
        } finally {
            t.down();
        }
        assertThat(netnsList()).doesNotContainAnyElementsOf(t.namespaces());
    }

    @Test
    void shouldKillOnlyTheProcessesItRecorded() throws Exception {
        String name = uniqueName();
        Testbed t = Testbed.up(name);
        Process mine;
        Process other;
        try {
            mine = t.spawn(t.hostANs(), "sleeper", null, "sleep", "600");
            other = new ProcessBuilder("ip", "netns", "exec", t.hostBNs(), "sleep", "600").start();
            assertThat(mine.isAlive()).isTrue();
            List<String> warnings = t.down();
            assertThat(mine.waitFor(10, TimeUnit.SECONDS)).as("the recorded process is killed").isTrue();
            assertThat(other.isAlive()).as("a process it did not start is left alone").isTrue();
            assertThat(warnings).anySatisfy(w -> assertThat(w).contains(t.hostBNs()).contains("not killed"));
        } finally {
            t.down();
        }
        other.destroyForcibly();
        other.waitFor(10, TimeUnit.SECONDS);
        assertThat(netnsList()).doesNotContainAnyElementsOf(t.namespaces());
    }

    @Test
    void shouldRefuseANameThatWouldNotMakeSafeNamespaceNames() {
        assertThatThrownBy(() -> Testbed.of("../x")).hasMessageContaining("must be 1..20 of [a-z0-9-]");
        assertThatThrownBy(() -> Testbed.of("a-very-long-testbed-name-indeed")).isInstanceOf(IllegalArgumentException.class);
    }
}
