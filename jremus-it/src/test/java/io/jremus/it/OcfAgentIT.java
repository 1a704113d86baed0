package io.jremus.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The resource agent {@code ocf:jremus:vm} on its own, outside a cluster: Debian's
 * {@code ocf-tester} runs every action against a real {@code jremus ha-node} with a real VM, and
 * each OCF exit code the agent promises is checked action by action. Runs in a private network
 * namespace (the agent listens on its loopback).
 */
class OcfAgentIT {
    private static final String NS = "jr-ocft";
    private static final int OCF_SUCCESS = 0;
    private static final int OCF_ERR_UNIMPLEMENTED = 3;
    private static final int OCF_ERR_CONFIGURED = 6;
    private static final int OCF_NOT_RUNNING = 7;
    private static final int OCF_RUNNING_PROMOTED = 8;

    private static Path dir;
    private static Path agent;

    record Run(int rc, String out) {
    }

    @BeforeAll
    static void setUp() throws Exception {
        TestGuest.requireKvm();
        assumeTrue("root".equals(System.getProperty("user.name")), "skipped: needs root (network namespace)");
        for (String tool : List.of("ocf-tester", "socat", "xmllint", "ip")) {
            assumeTrue(which(tool), "skipped: " + tool + " is not installed (scripts/setup-host.sh installs it)");
        }
        // The agent as an operator installs it (scripts/install-ocf-agent.sh), in a directory
        // others may enter: ocf-tester also runs it as 'nobody', and a checkout may sit in a
        // private directory.
        dir = Files.createTempDirectory("jremus-ocft");
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Run installed = sh(List.of(TestGuest.repoRoot().resolve("scripts/install-ocf-agent.sh").toString(), "--prefix", dir.resolve("root").toString()));
        assertThat(installed.rc()).as(installed.out()).isZero();
        agent = dir.resolve("root/usr/lib/ocf/resource.d/jremus/vm");
        Path keys = dir.resolve("keys");
        Run k = sh(List.of(TestGuest.repoRoot().resolve("jremus").toString(), "keys", "init", "--dir", keys.toString(), "--nodes", "ocft1,ocft2"));
        assertThat(k.rc()).as(k.out()).isZero();
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("disk.img").toFile(), "rw")) {
            f.setLength(16L << 20);
        }
        Files.writeString(dir.resolve("vm.toml"), """
                name = "ocft"
                memory = "64M"
                vcpus = 1
                kernel = "%s"
                cmdline = "work=idle"
                serial = "%s"
                [[disk]]
                path = "%s"
                """.formatted(TestGuest.elf(), dir.resolve("serial.log"), dir.resolve("disk.img")));
        sh(List.of("ip", "netns", "del", NS));
        assertThat(sh(List.of("ip", "netns", "add", NS)).rc()).isZero();
        sh(List.of("ip", "-n", NS, "link", "set", "lo", "up"));
    }

    /** Each test starts from a never-replicated disk and no running instance. */
    @org.junit.jupiter.api.BeforeEach
    void freshDisk() throws Exception {
        agent("stop", params());
        for (String suffix : List.of(".jremus-sync", ".jremus-clean-stop")) Files.deleteIfExists(dir.resolve("disk.img" + suffix));
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (dir != null && agent != null) agent("stop", params()); // by the agent itself: it knows its pid
        sh(List.of("ip", "netns", "del", NS));
    }

    private static List<String> params() {
        return List.of("config=" + dir.resolve("vm.toml"), "keys=" + dir.resolve("keys"),
                "peers=ocft1=127.0.0.1:7790 ocft2=127.0.0.1:7791", "jremus=" + TestGuest.repoRoot().resolve("jremus"),
                "state_dir=" + dir.resolve("state"), "CRM_meta_on_node=ocft1");
    }

    @Test
    void ocfTesterPassesAgainstARealVm() throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", NS, "ocf-tester", "-v", "-n", "ocft"));
        for (String p : params()) {
            cmd.add("-o");
            cmd.add(p);
        }
        cmd.add(agent.toString());
        Run r = sh(cmd);
        assertThat(r.out()).contains("passed all tests");
        assertThat(r.rc()).as(r.out()).isZero();
        // It really ran the VM: the guest booted at least once (each promote boots it cold here).
        assertThat(Files.readString(dir.resolve("serial.log"))).contains(TestGuest.READY);
    }

    @Test
    void everyActionAnswersWithTheCodeTheOcfSpecAsks() throws Exception {
        assertThat(agent("monitor", params()).rc()).isEqualTo(OCF_NOT_RUNNING);
        assertThat(agent("stop", params()).rc()).isEqualTo(OCF_SUCCESS); // stopping a stopped one
        assertThat(agent("start", params()).rc()).isEqualTo(OCF_SUCCESS);
        assertThat(agent("monitor", params()).rc()).isEqualTo(OCF_SUCCESS); // Unpromoted
        assertThat(agent("start", params()).rc()).isEqualTo(OCF_SUCCESS); // idempotent
        assertThat(agent("promote", params()).rc()).isEqualTo(OCF_SUCCESS);
        assertThat(agent("monitor", params()).rc()).isEqualTo(OCF_RUNNING_PROMOTED);
        assertThat(agent("promote", params()).rc()).isEqualTo(OCF_SUCCESS);
        assertThat(agent("demote", params()).rc()).isEqualTo(OCF_SUCCESS);
        assertThat(agent("monitor", params()).rc()).isEqualTo(OCF_SUCCESS);
        assertThat(agent("stop", params()).rc()).isEqualTo(OCF_SUCCESS);
        assertThat(agent("monitor", params()).rc()).isEqualTo(OCF_NOT_RUNNING);

        assertThat(agent("frobnicate", params()).rc()).isEqualTo(OCF_ERR_UNIMPLEMENTED);

        // A replicated disk whose node was not its last, cleanly stopped primary must not boot
        // cold: another node may hold newer data. The operator's way out is named in the refusal.
        Path disk = dir.resolve("disk.img");
        assertThat(disk.resolveSibling("disk.img.jremus-sync")).exists();
        Files.delete(disk.resolveSibling("disk.img.jremus-clean-stop"));
        assertThat(agent("start", params()).rc()).isEqualTo(OCF_SUCCESS);
        Run refused = agent("promote", params());
        assertThat(refused.rc()).isEqualTo(1); // OCF_ERR_GENERIC
        assertThat(refused.out()).contains("not its last primary").contains("delete " + disk.resolveSibling("disk.img.jremus-sync"));
        assertThat(agent("monitor", params()).rc()).isEqualTo(OCF_SUCCESS); // still a healthy standby
        Files.delete(disk.resolveSibling("disk.img.jremus-sync"));
        assertThat(agent("promote", params()).rc()).isEqualTo(OCF_SUCCESS);
        assertThat(agent("monitor", params()).rc()).isEqualTo(OCF_RUNNING_PROMOTED);
        assertThat(agent("demote", params()).rc()).isEqualTo(OCF_SUCCESS);
        assertThat(agent("stop", params()).rc()).isEqualTo(OCF_SUCCESS);
        List<String> noSelf = new ArrayList<>(params());
        noSelf.set(2, "peers=other=127.0.0.1:7791");
        Run bad = agent("validate-all", noSelf);
        assertThat(bad.rc()).isEqualTo(OCF_ERR_CONFIGURED);
        assertThat(bad.out()).contains("no address for this node");
        List<String> garbled = new ArrayList<>(params());
        garbled.set(2, "peers=ocft1:7790");
        assertThat(agent("validate-all", garbled).rc()).isEqualTo(OCF_ERR_CONFIGURED);
        assertThat(agent("validate-all", params()).rc()).isEqualTo(OCF_SUCCESS);
        Run md = agent("meta-data", params());
        assertThat(md.rc()).isZero();
        assertThat(md.out()).contains("<resource-agent name=\"vm\"").contains("role=\"Promoted\"");
    }

    private static Run agent(String action, List<String> params) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", NS, "env", "OCF_ROOT=/usr/lib/ocf",
                "OCF_RESOURCE_INSTANCE=ocft"));
        for (String p : params) cmd.add("OCF_RESKEY_" + p);
        cmd.add(agent.toString());
        cmd.add(action);
        return sh(cmd);
    }

    private static boolean which(String tool) {
        try {
            return sh(List.of("sh", "-c", "command -v " + tool)).rc() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static Run sh(List<String> cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        env.put("JREMUS_NO_BUILD", "1");
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + cmd);
        }
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
