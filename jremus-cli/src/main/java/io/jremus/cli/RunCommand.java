package io.jremus.cli;

import io.jremus.cli.control.ControlServer;
import io.jremus.vmm.Vm;
import io.jremus.vmm.config.ConfigException;
import io.jremus.vmm.config.ConfigOverrides;
import io.jremus.vmm.config.VmConfig;
import io.jremus.vmm.config.VmConfigLoader;
import io.jremus.vmm.vcpu.StopReason;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code jremus run [vm.toml] [flags]}: boots a VM in this process and waits until it stops.
 * A guest reset boots the VM again (unless {@code --no-reboot}).
 * Exit status: the guest's power-off status when it powers off, 0 after a reset with {@code --no-reboot}, 1 when
 * the guest crashed or KVM could not run it, 2 for a configuration mistake, 3 for a host problem.
 */
@Command(name = "run", mixinStandardHelpOptions = true, description = "Boot a VM from a TOML config and/or flags.")
public final class RunCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "VM.toml", description = "VM config file (TOML).")
    Path config;

    @Option(names = "--name", description = "VM name.")
    String name;
    @Option(names = "--memory", paramLabel = "SIZE", description = "Guest RAM, e.g. 256M or 1G.")
    String memory;
    @Option(names = "--vcpus", paramLabel = "N", description = "Number of vCPUs.")
    Integer vcpus;
    @Option(names = "--kernel", paramLabel = "FILE", description = "Kernel: PVH ELF (vmlinux, test guest) or bzImage.")
    String kernel;
    @Option(names = "--initrd", paramLabel = "FILE", description = "Initial ramdisk (empty string: none).")
    String initrd;
    @Option(names = "--cmdline", paramLabel = "TEXT", description = "Kernel command line.")
    String cmdline;
    @Option(names = "--serial", paramLabel = "stdout|none|FILE", description = "Where the guest console goes.")
    String serial;
    @Option(names = "--timeout", paramLabel = "SECONDS", description = "Stop the VM after this many seconds (0: never).", defaultValue = "0")
    long timeoutSeconds;
    @Option(names = "--no-reboot", description = "Exit when the guest asks for a reset instead of booting it again.")
    boolean noReboot;
    @Option(names = "--control", paramLabel = "SOCKET", description = "Serve the control protocol (pause, resume, snapshot, status, stop) on this Unix socket.")
    Path control;

    @Override
    public Integer call() throws Exception {
        VmConfig cfg = loadConfig();
        long deadline = timeoutSeconds > 0 ? System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds) : Long.MAX_VALUE;
        while (true) {
            StopReason reason = runOnce(cfg, deadline);
            if (reason.kind() == StopReason.Kind.RESET && !noReboot) {
                System.err.println("jremus: guest requested a reset; booting it again");
                continue;
            }
            return exitStatus(reason);
        }
    }

    /** One boot of the VM, until it stops. A reset is a fresh VM: new RAM, same config and disks. */
    private StopReason runOnce(VmConfig cfg, long deadline) throws Exception {
        try (Vm vm = Vm.create(cfg, Vm.Options.defaults())) {
            return runUntilStopped(vm, deadline, timeoutSeconds, control);
        }
    }

    /**
     * Starts {@code vm} (serving its control socket if asked) and waits until it stops or the
     * deadline passes. Shared with {@code jremus snapshot restore}.
     */
    static StopReason runUntilStopped(Vm vm, long deadline, long timeoutSeconds, Path control) throws Exception {
        Thread hook = Thread.ofPlatform().unstarted(() -> vm.stop("interrupted"));
        Runtime.getRuntime().addShutdownHook(hook);
        ControlServer server = null;
        try {
            if (control != null) {
                try {
                    server = new ControlServer(control, vm);
                } catch (java.io.IOException e) {
                    throw new UserException("--control " + control + ": " + e.getMessage());
                }
            }
            vm.start();
            StopReason reason;
            try {
                long left = deadline == Long.MAX_VALUE ? Long.MAX_VALUE / 2 : Math.max(0, deadline - System.nanoTime());
                reason = vm.awaitStop(left, TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                vm.stop("--timeout of " + timeoutSeconds + " s reached");
                reason = vm.awaitStop(10, TimeUnit.SECONDS);
            }
            return reason;
        } finally {
            if (server != null) server.close();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException ignored) {
                // already shutting down
            }
        }
    }

    static int exitStatus(StopReason reason) {
        return switch (reason.kind()) {
            case POWER_OFF -> reason.code();
            case RESET, HOST_REQUEST -> {
                System.err.println("jremus: " + reason.detail());
                yield 0;
            }
            case TRIPLE_FAULT, GUEST_ERROR -> {
                System.err.println("jremus: guest stopped: " + reason.detail());
                yield 1;
            }
            case VMM_ERROR -> {
                System.err.println("jremus: " + reason.detail());
                yield Main.EXIT_INTERNAL;
            }
        };
    }

    private VmConfig loadConfig() {
        ConfigOverrides o = new ConfigOverrides(name, memory, vcpus, kernel, initrd, cmdline, serial);
        Path cwd = Path.of("").toAbsolutePath();
        try {
            if (config == null) {
                if (kernel == null) throw new UserException("run: give a VM config file or at least --kernel");
                return VmConfigLoader.fromFlags(o, cwd);
            }
            return VmConfigLoader.load(config).withOverrides(o, cwd);
        } catch (ConfigException e) {
            throw new UserException(e.getMessage());
        }
    }
}
