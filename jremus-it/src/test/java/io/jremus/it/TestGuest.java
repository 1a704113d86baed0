package io.jremus.it;

import io.jremus.vmm.Vm;
import io.jremus.vmm.config.ConfigException;
import io.jremus.vmm.config.ConfigOverrides;
import io.jremus.vmm.config.VmConfig;
import io.jremus.vmm.config.VmConfigLoader;
import io.jremus.vmm.console.ConsoleLines;
import io.jremus.vmm.kvm.Kvm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Shared helpers for whole-system tests: where the repository and the test guest are, a check
 * that KVM is usable (skipping with the reason otherwise), and an in-process VM running the
 * test guest with its console captured.
 */
public final class TestGuest {
    public static final String READY = "jremus-guest: ready";

    private TestGuest() {
    }

    /** The repository root: the nearest directory upwards that holds the launcher and guest/. */
    public static Path repoRoot() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isExecutable(d.resolve("jremus")) && Files.exists(d.resolve("guest/Makefile"))) return d;
        }
        throw new IllegalStateException("cannot find the jremus repository root above " + Path.of("").toAbsolutePath());
    }

    /** Skips the calling test, saying why, when this host cannot run VMs. */
    public static void requireKvm() {
        assumeTrue(Files.exists(Kvm.DEVICE), "skipped: /dev/kvm does not exist on this host, so no VM can run");
        assumeTrue(Kvm.available(), "skipped: /dev/kvm exists but cannot be opened (permissions?), so no VM can run");
    }

    /** The test guest ELF, built with make if it is not there yet. */
    public static Path elf() {
        Path elf = repoRoot().resolve("guest/build/jremus-guest.elf");
        if (!Files.exists(elf)) {
            try {
                Process p = new ProcessBuilder("make", "-s", "-C", repoRoot().resolve("guest").toString())
                        .inheritIO().start();
                if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    throw new IllegalStateException("make -C guest failed");
                }
            } catch (IOException e) {
                throw new IllegalStateException("cannot build the test guest: " + e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        return elf;
    }

    public static VmConfig config(long memMib, int vcpus, String cmdline) {
        try {
            return VmConfigLoader.fromFlags(new ConfigOverrides("it", memMib + "M", vcpus, elf().toString(), null, cmdline, "none"),
                    Path.of("").toAbsolutePath());
        } catch (ConfigException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A VM running the test guest; its console goes to {@code console}. Not yet started. */
    public static Vm vm(long memMib, int vcpus, String cmdline, ConsoleLines console) {
        return Vm.create(config(memMib, vcpus, cmdline), new Vm.Options(console));
    }

    /** The test guest's CPU workload computed on the host (guest/README.md documents it). */
    public static long xorshift(long iters) {
        return io.jremus.cli.bench.HostCpuLoop.result(iters);
    }
}
