package io.jremus.cli;

import io.jremus.cli.testbed.Testbed;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TestbedAndWitnessCommandTest {
    private static int run(Object cmd, String... args) {
        CommandLine cl = new CommandLine(cmd);
        cl.setExecutionExceptionHandler((ex, line, parse) -> Main.report(ex));
        return cl.execute(args);
    }

    @Test
    void shouldParseWitnessAddressesAndNameTheMistake() {
        InetSocketAddress a = WitnessCommand.parseHostPort("10.99.0.1:7070");
        assertThat(a.getAddress().getHostAddress()).isEqualTo("10.99.0.1");
        assertThat(a.getPort()).isEqualTo(7070);
        assertThat(WitnessCommand.parseHostPort("[::1]:7070").getAddress().isLoopbackAddress()).isTrue();
        assertThatThrownBy(() -> WitnessCommand.parseHostPort("10.99.0.1")).hasMessage("expected HOST:PORT, got '10.99.0.1'");
        assertThatThrownBy(() -> WitnessCommand.parseHostPort("h:x")).hasMessage("port in 'h:x' is not a number");
    }

    @Test
    void shouldRefuseAnAbsurdLeaseAsAUserMistake() {
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int status = run(new WitnessCommand(), "--listen", "127.0.0.1:0", "--state", "/nonexistent/x", "--lease-ms", "0");
            assertThat(status).isEqualTo(Main.EXIT_USAGE);
            assertThat(err.toString(StandardCharsets.UTF_8)).contains("--lease-ms must be 10..600000, got 0");
        } finally {
            System.setErr(saved);
        }
    }

    @Test
    void shouldBringTheTestbedUpShowItAndTearItDown() {
        String why = Testbed.unavailableReason();
        Assumptions.assumeTrue(why == null, "skipped: " + why);
        String name = "jc" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x10000, 0xFFFFF));
        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            assertThat(run(new TestbedCommand(), "status", "--name", name)).isEqualTo(1);
            assertThat(run(new TestbedCommand(), "up", "--name", name)).isZero();
            assertThat(run(new TestbedCommand(), "up", "--name", name)).isZero();
            assertThat(run(new TestbedCommand(), "status", "--name", name)).isZero();
        } finally {
            assertThat(run(new TestbedCommand(), "down", "--name", name)).isZero();
            System.setOut(saved);
        }
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(text).contains("testbed " + name + " is up").contains(name + "-host-a").contains("10.88.0.1/24")
                .contains("testbed " + name + ": complete").contains("testbed " + name + " is down");
        assertThat(run(new TestbedCommand(), "status", "--name", name)).isEqualTo(1);
    }
}
