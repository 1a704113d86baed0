package io.jremus.it;

import io.jremus.cli.testbed.NetTestbed;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The test guest's Redis-protocol server on virtio-net over a real TAP, driven from a client
 * namespace by Debian's unmodified redis-cli and redis-benchmark.
 */
class RedisOverTapIT {
    private static NetTestbed bed;
    private static io.jremus.cli.testbed.GuestServer vm;
    @TempDir
    static Path dir;

    @BeforeAll
    static void start() throws Exception {
        TestGuest.requireKvm();
        String why = NetTestbed.unavailableReason();
        assumeTrue(why == null, "skipped: " + why);
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/redis-cli")), "skipped: redis-tools is not installed (scripts/setup-host.sh installs it)");
        bed = NetTestbed.create();
        vm = VmProcess.start(bed, dir, "redis", "work=redis", null);
        vm.awaitConsole(l -> l.startsWith("redis: listening"), 60);
    }

    @AfterAll
    static void stop() throws Exception {
        if (vm != null) vm.close();
        if (bed != null) bed.close();
    }

    private static String cli(String... args) throws Exception {
        String[] cmd = new String[args.length + 3];
        cmd[0] = "redis-cli";
        cmd[1] = "-h";
        cmd[2] = NetTestbed.GUEST_IP;
        System.arraycopy(args, 0, cmd, 3, args.length);
        NetTestbed.Result r = bed.inClient(30, cmd);
        assertThat(r.status()).as(r.output()).isZero();
        return r.output().strip();
    }

    @Test
    void shouldAnswerRedisCliRoundTripsFromAClientNamespace() throws Exception {
        assertThat(cli("PING")).isEqualTo("PONG");
        assertThat(cli("SET", "greeting", "hello")).isEqualTo("OK");
        assertThat(cli("GET", "greeting")).isEqualTo("hello");
        cli("DEL", "visits");
        assertThat(cli("INCR", "visits")).isEqualTo("1");
        assertThat(cli("INCRBY", "visits", "41")).isEqualTo("42");
        assertThat(cli("NOSUCHCOMMAND")).startsWith("ERR");
    }

    @Test
    void shouldCompleteRedisBenchmarkWithoutErrors() throws Exception {
        NetTestbed.Result r = bed.inClient(300, "redis-benchmark", "-h", NetTestbed.GUEST_IP, "-q", "-n", "10000",
                "-t", "ping,set,get,incr,lpush,lpop,mset");
        assertThat(r.status()).as(r.output()).isZero();
        String out = r.output();
        for (String test : new String[]{"PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "LPUSH", "LPOP", "MSET"}) {
            assertThat(out).as(out).containsPattern("(?m)" + test + "[^\\n]*: [0-9.]+ requests per second");
        }
        assertThat(out.toLowerCase()).doesNotContain("error");
    }

    @Test
    void shouldKeepAnsweringAfterAFloodOfMalformedInput() throws Exception {
        for (int i = 0; i < 5; i++) {
            // Random bytes, then RESP with absurd lengths, each on its own connection.
            bed.inClient(30, "bash", "-c", "head -c 200000 /dev/urandom > /dev/tcp/" + NetTestbed.GUEST_IP + "/6379 || true");
            bed.inClient(30, "bash", "-c", "printf '*99999999\\r\\n$-5\\r\\n*2\\r\\n$999999999999\\r\\nx\\r\\n' > /dev/tcp/"
                    + NetTestbed.GUEST_IP + "/6379 || true");
        }
        assertThat(cli("PING")).isEqualTo("PONG");
        assertThat(vm.isAlive()).isTrue();
    }
}
