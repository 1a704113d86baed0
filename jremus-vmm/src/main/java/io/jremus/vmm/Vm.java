package io.jremus.vmm;

import io.jremus.vmm.boot.BootException;
import io.jremus.vmm.boot.BootPlan;
import io.jremus.vmm.boot.GuestRamLayout;
import io.jremus.vmm.boot.KernelBoot;
import io.jremus.vmm.boot.RamRegion;
import io.jremus.vmm.config.SerialConfig;
import io.jremus.vmm.config.VmConfig;
import io.jremus.vmm.devices.CheckpointHooks;
import io.jremus.vmm.devices.PowerControl;
import io.jremus.vmm.config.DiskConfig;
import io.jremus.vmm.config.NetConfig;
import io.jremus.vmm.devices.acpi.AcpiConfig;
import io.jremus.vmm.devices.acpi.AcpiMmioDevice;
import io.jremus.vmm.devices.virtio.VirtioDevice;
import io.jremus.vmm.devices.virtio.VirtioMmioTransport;
import io.jremus.vmm.devices.virtio.blk.VirtioBlkDevice;
import io.jremus.vmm.devices.virtio.net.VirtioNetConfig;
import io.jremus.vmm.devices.virtio.net.VirtioNetDevice;
import io.jremus.vmm.net.EventLoop;
import io.jremus.vmm.net.Tap;
import io.jremus.vmm.net.TapException;
import io.jremus.vmm.devices.acpi.AcpiSleepDevice;
import io.jremus.vmm.devices.acpi.AcpiTables;
import io.jremus.vmm.devices.bus.MmioBus;
import io.jremus.vmm.devices.bus.PioBus;
import io.jremus.vmm.devices.debugexit.DebugExit;
import io.jremus.vmm.devices.i8042.I8042;
import io.jremus.vmm.devices.serial.Serial8250;
import io.jremus.vmm.machine.Machine;
import io.jremus.vmm.memory.DirtyPages;
import io.jremus.vmm.memory.GuestMemory;
import io.jremus.vmm.memory.GuestRamAllocator;
import io.jremus.vmm.vcpu.BootStateWriter;
import io.jremus.vmm.vcpu.ExitHandler;
import io.jremus.vmm.vcpu.StopReason;
import io.jremus.vmm.devices.DeviceStateException;
import io.jremus.vmm.devices.virtio.VirtioMmioState;
import io.jremus.vmm.devices.virtio.blk.RawImageFile;
import io.jremus.vmm.devices.virtio.blk.VirtioBlkState;
import io.jremus.vmm.devices.virtio.net.VirtioNetState;
import io.jremus.vmm.snapshot.DeviceStates;
import io.jremus.vmm.snapshot.KvmStateIo;
import io.jremus.vmm.snapshot.MemoryImage;
import io.jremus.vmm.snapshot.SnapshotException;
import io.jremus.vmm.snapshot.VcpuState;
import io.jremus.vmm.snapshot.VmSnapshotState;
import io.jremus.vmm.snapshot.VmState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One virtual machine assembled from a {@link VmConfig}: the KVM {@link Machine}, the device
 * buses and devices, and the booted guest. This is what {@code jremus run} runs and what the
 * replication layer will checkpoint.
 *
 * <p>Routes vCPU exits to the buses (it is the machine's {@link ExitHandler}) and turns the
 * guest's power-off and reset requests into a stop of the whole VM ({@link PowerControl}).
 */
public final class Vm implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Vm.class);

    /**
     * Host-side choices that are not part of the VM's identity.
     *
     * @param serialTee also receives every byte of the guest's serial output (tests, benchmarks); may be null
     */
    public record Options(OutputStream serialTee) {
        public static Options defaults() {
            return new Options(null);
        }
    }

    private final VmConfig config;
    private final Machine machine;
    private final PioBus pio = new PioBus();
    private final MmioBus mmio = new MmioBus();
    private final Serial8250 serial;
    private final OutputStream serialSink;
    private final BootPlan bootPlan;
    private final List<AutoCloseable> resources;
    private final List<VirtioMmioTransport> virtio;
    private Thread serialFlusher;
    private KvmStateIo stateIo;

    private Vm(VmConfig config, Machine machine, Serial8250 serial, OutputStream serialSink, BootPlan bootPlan,
               List<AutoCloseable> resources, List<VirtioMmioTransport> virtio) {
        this.config = config;
        this.machine = machine;
        this.serial = serial;
        this.serialSink = serialSink;
        this.bootPlan = bootPlan;
        this.resources = resources;
        this.virtio = virtio;
    }

    /** Creates the VM, its devices and loads the guest; vCPUs start with {@link #start}. */
    public static Vm create(VmConfig config, Options options) {
        try {
            return assemble(config, options, null);
        } catch (SnapshotException e) {
            throw new IllegalStateException("unreachable: no snapshot given", e);
        }
    }

    /**
     * Creates a VM from a snapshot instead of booting a kernel: the machine and devices of
     * {@code config}, guest memory loaded from {@code memory}, then the KVM and device state.
     * The VM is left ready to {@link #start}: its vCPUs (APs included) run on from the saved
     * state. {@code state} and the memory image's headers must have been validated (the
     * snapshot reader does it); the state is validated again here before anything is created.
     *
     * @throws SnapshotException if the snapshot does not fit {@code config}, a page record fails
     *                           its check, or KVM or a device refuses the state; nothing is left
     *                           running (the half-built VM is closed)
     */
    public static Vm restore(VmConfig config, VmSnapshotState state, MemoryImage memory, Options options) throws SnapshotException {
        state.validate(config.vcpus());
        memory.checkFits(config);
        DeviceStates d = state.devices();
        if (d.disks().size() != config.disks().size() || d.nets().size() != config.nets().size()
                || d.transports().size() != config.disks().size() + config.nets().size()) {
            throw new SnapshotException(SnapshotException.Kind.MISMATCH, "the snapshot has " + d.disks().size() + " disks and "
                    + d.nets().size() + " NICs on " + d.transports().size() + " virtio slots; the config has "
                    + config.disks().size() + " disks and " + config.nets().size() + " NICs");
        }
        return assemble(config, options, new Restore(state, memory));
    }

    private record Restore(VmSnapshotState state, MemoryImage memory) {
    }

    private static Vm assemble(VmConfig config, Options options, Restore restore) throws SnapshotException {
        List<GuestRamAllocator.Range> ranges = new ArrayList<>();
        for (RamRegion r : GuestRamLayout.regionsFor(config.memoryBytes())) {
            ranges.add(new GuestRamAllocator.Range(r.guestAddress(), r.size()));
        }
        OutputStream sink = openSerialSink(config.serial(), options.serialTee());
        Machine machine = null;
        List<AutoCloseable> resources = new ArrayList<>();
        try {
            machine = Machine.create(ranges, config.vcpus());
            Machine m = machine;
            PowerControl power = new PowerControl() {
                @Override
                public void powerOff(int exitCode) {
                    m.requestStop(StopReason.powerOff(exitCode));
                }

                @Override
                public void reset() {
                    m.requestStop(StopReason.reset());
                }
            };
            Serial8250 serial = new Serial8250(sink, machine.interruptLine(MachineLayout.SERIAL_COM1_GSI));
            KvmStateIo stateIo = null;
            if (restore != null) {
                // Memory first (devices restored below may read their rings), then KVM state.
                restore.memory().loadInto(machine.memory());
                stateIo = new KvmStateIo(machine.kvm(), machine.vm(), machine.vcpus());
                resources.add(stateIo);
                stateIo.apply(restore.state());
            }
            List<VirtioDevice> devices = virtioDevices(config, resources, restore == null ? null : restore.state().devices());
            List<VirtioMmioTransport> transports = new ArrayList<>();
            List<AcpiMmioDevice> acpiDevices = new ArrayList<>();
            StringBuilder cmdline = new StringBuilder(config.cmdline());
            for (int i = 0; i < devices.size(); i++) {
                long base = MachineLayout.VIRTIO_MMIO_BASE + i * MachineLayout.VIRTIO_MMIO_STRIDE;
                int gsi = MachineLayout.VIRTIO_FIRST_GSI + i;
                VirtioMmioTransport t = new VirtioMmioTransport(devices.get(i), machine.memory(), machine.interruptLine(gsi),
                        "virtio" + i);
                transports.add(t);
                acpiDevices.add(new AcpiMmioDevice(base, MachineLayout.VIRTIO_MMIO_SIZE, gsi));
                // Both discovery paths: ACPI (Debian's stock kernel) and the command line (kernels
                // built with VIRTIO_MMIO_CMDLINE_DEVICES, and the test guest), as QEMU microvm does.
                if (!cmdline.isEmpty()) cmdline.append(' ');
                cmdline.append("virtio_mmio.device=").append(MachineLayout.VIRTIO_MMIO_SIZE).append("@0x")
                        .append(Long.toHexString(base)).append(':').append(gsi);
            }
            BootPlan plan = null;
            if (restore == null) {
                // ACPI tables for kernels that discover devices through them (Debian's stock kernel).
                AcpiTables acpi = AcpiTables.build(AcpiConfig.of(config.vcpus(), acpiDevices));
                acpi.writeTo(machine.memory());
                plan = boot(config, cmdline.toString(), machine.memory(), acpi.rsdpAddress());
                BootStateWriter.apply(machine.vcpus().getFirst(), plan);
            } else {
                restoreDevices(serial, transports, restore.state().devices());
                // The guest was stopped for as long as the snapshot existed: tell its kvmclock.
                stateIo.kvmclockCtrl();
            }
            Vm vm = new Vm(config, machine, serial, sink, plan, resources, transports);
            vm.stateIo = stateIo;
            for (int i = 0; i < transports.size(); i++) {
                vm.mmio.register(MachineLayout.VIRTIO_MMIO_BASE + i * MachineLayout.VIRTIO_MMIO_STRIDE,
                        MachineLayout.VIRTIO_MMIO_SIZE, transports.get(i));
            }
            vm.pio.register(MachineLayout.SERIAL_COM1_PORT, Serial8250.PORT_COUNT, serial)
                    .register(MachineLayout.I8042_DATA_PORT, I8042.PORT_COUNT, new I8042(power))
                    .register(MachineLayout.DEBUG_EXIT_PORT, DebugExit.PORT_COUNT, new DebugExit(power))
                    .register(AcpiSleepDevice.PORT_BASE, AcpiSleepDevice.PORT_COUNT, new AcpiSleepDevice(power));
            if (plan != null) log.debug("loaded {}", plan.loaded());
            return vm;
        } catch (RuntimeException | SnapshotException e) {
            if (machine != null) machine.close();
            closeAll(resources);
            closeQuietly(sink);
            throw e;
        }
    }

    private static void restoreDevices(Serial8250 serial, List<VirtioMmioTransport> transports, DeviceStates d) throws SnapshotException {
        try {
            serial.restore(d.serial());
            // Device state was applied when the devices were built; the transports re-activate them.
            for (int i = 0; i < transports.size(); i++) transports.get(i).restore(d.transports().get(i));
        } catch (DeviceStateException e) {
            throw new SnapshotException(SnapshotException.Kind.CORRUPT, e.getMessage(), e);
        }
    }

    /**
     * Disks first, then NICs, in config order: their slot decides their address and GSI. With
     * {@code saved}, each device is rebuilt from its saved state over the backend the config names
     * (the disk image is re-opened, the TAP re-attached or re-created).
     */
    private static List<VirtioDevice> virtioDevices(VmConfig config, List<AutoCloseable> resources, DeviceStates saved)
            throws SnapshotException {
        List<VirtioDevice> out = new ArrayList<>();
        for (int i = 0; i < config.disks().size(); i++) {
            DiskConfig d = config.disks().get(i);
            RawImageFile image = null;
            try {
                VirtioBlkDevice blk;
                if (saved == null) {
                    blk = VirtioBlkDevice.open(d.path(), d.readonly());
                } else {
                    image = RawImageFile.open(d.path(), d.readonly());
                    blk = VirtioBlkDevice.restore(image, saved.disks().get(i));
                }
                resources.add(blk::close);
                out.add(blk);
            } catch (IOException e) {
                throw new VmmException(VmmException.Kind.USER, "disk " + d.path() + ": " + e.getMessage(), e);
            } catch (DeviceStateException e) {
                image.close();
                throw new SnapshotException(SnapshotException.Kind.MISMATCH, e.getMessage(), e);
            }
        }
        if (!config.nets().isEmpty()) {
            EventLoop loop = new EventLoop("net-loop");
            resources.add(loop);
            for (int i = 0; i < config.nets().size(); i++) {
                NetConfig n = config.nets().get(i);
                Tap tap;
                try {
                    tap = n.create() ? Tap.create(n.tap()) : Tap.attach(n.tap());
                } catch (TapException e) {
                    throw new VmmException(VmmException.Kind.HOST, "net " + n.tap() + ": " + e.getMessage(), e);
                }
                resources.add(tap);
                VirtioNetDevice net;
                if (saved == null) {
                    net = new VirtioNetDevice(VirtioNetConfig.of(n.mac()), tap, loop);
                } else {
                    try {
                        net = VirtioNetDevice.restore(saved.nets().get(i), tap, loop);
                    } catch (DeviceStateException e) {
                        throw new SnapshotException(SnapshotException.Kind.MISMATCH, e.getMessage(), e);
                    }
                }
                resources.add(net::close);
                out.add(net);
            }
        }
        return out;
    }

    private static BootPlan boot(VmConfig config, String cmdline, GuestMemory memory, long rsdp) {
        try {
            return KernelBoot.boot(memory, config.kernel(), config.initrd().orElse(null), cmdline, rsdp);
        } catch (BootException e) {
            throw new VmmException(VmmException.Kind.USER, "kernel " + config.kernel() + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new VmmException(VmmException.Kind.USER, "cannot read the kernel or initrd: " + e.getMessage(), e);
        }
    }

    private static OutputStream openSerialSink(SerialConfig serial, OutputStream tee) {
        OutputStream base = switch (serial) {
            case SerialConfig.Stdout s -> new NonClosingStream(System.out);
            case SerialConfig.None n -> OutputStream.nullOutputStream();
            case SerialConfig.ToFile f -> {
                try {
                    yield new FileOutputStream(f.path().toFile(), true);
                } catch (IOException e) {
                    throw new VmmException(VmmException.Kind.USER, "serial: cannot open " + f.path() + ": " + e.getMessage(), e);
                }
            }
        };
        return tee == null ? base : new TeeStream(base, tee);
    }

    public VmConfig config() {
        return config;
    }

    public Machine machine() {
        return machine;
    }

    public GuestMemory memory() {
        return machine.memory();
    }

    /** How the guest was booted; null for a VM restored from a snapshot. */
    public BootPlan bootPlan() {
        return bootPlan;
    }

    /**
     * Captures everything but memory: KVM VM and vCPU state and every device's state. The VM
     * must be paused (or not yet started), so no vCPU runs and no device request is in progress
     * on a vCPU thread. Allocates only the result (the KVM scratch buffers are reused); the
     * replication layer calls this once per epoch next to {@link #harvestDirtyPages}.
     */
    public VmSnapshotState captureState() {
        if (!machine.isPaused() && machine.isStarted()) {
            throw new IllegalStateException("captureState needs a paused VM");
        }
        KvmStateIo io = stateIo();
        VmState vmState = io.captureVm();
        List<VcpuState> vcpus = new ArrayList<>(machine.vcpus().size());
        for (int i = 0; i < machine.vcpus().size(); i++) vcpus.add(io.captureVcpu(i));
        List<VirtioMmioState> ts = new ArrayList<>(virtio.size());
        List<VirtioBlkState> disks = new ArrayList<>();
        List<VirtioNetState> nets = new ArrayList<>();
        for (VirtioMmioTransport t : virtio) {
            ts.add(t.save());
            switch (t.device()) {
                case VirtioBlkDevice b -> disks.add(b.save());
                case VirtioNetDevice n -> nets.add(n.save());
                default -> throw new IllegalStateException("no saved state for " + t.device());
            }
        }
        return new VmSnapshotState(vmState, vcpus, new DeviceStates(serial.save(), ts, disks, nets));
    }

    /** The KVM state reader/writer of this VM, built (and its MSR list probed) on first use. */
    public synchronized KvmStateIo stateIo() {
        if (stateIo == null) {
            stateIo = new KvmStateIo(machine.kvm(), machine.vm(), machine.vcpus());
            resources.add(stateIo);
        }
        return stateIo;
    }

    /** Starts the vCPUs. */
    public void start() {
        machine.start(new Exits());
        // The UART flushes on newline; this catches prompts and partial lines.
        serialFlusher = Thread.ofPlatform().name("serial-flush").daemon(true).start(() -> {
            while (!machine.stopped().isDone()) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
                serial.flush();
            }
        });
    }

    /**
     * Pauses the VM: all vCPUs, then the devices' own threads ({@link CheckpointHooks#postSuspend},
     * e.g. virtio-net stops receiving into guest memory). From return until {@link #resume} the
     * guest's memory and state do not change, which is what a snapshot or checkpoint needs.
     *
     * @return nanoseconds until the vCPUs were stopped
     */
    public long pause() {
        long ns = machine.pause();
        for (VirtioMmioTransport t : virtio) {
            if (t.device() instanceof CheckpointHooks h) h.postSuspend();
        }
        serial.flush();
        return ns;
    }

    /** Resumes devices ({@link CheckpointHooks#preResume}) and then the vCPUs. */
    public void resume() {
        for (VirtioMmioTransport t : virtio) {
            if (t.device() instanceof CheckpointHooks h) h.preResume();
        }
        machine.resume();
    }

    /** Dirty pages since the previous harvest: KVM's log united with the VMM's own writes. */
    public DirtyPages harvestDirtyPages() {
        return machine.dirtyTracker().harvest();
    }

    public StopReason awaitStop(long timeout, TimeUnit unit) throws TimeoutException, InterruptedException {
        StopReason r = machine.awaitStop(timeout, unit);
        serial.flush();
        return r;
    }

    public void stop(String why) {
        machine.stop(why);
    }

    /** The virtio-mmio transports in slot order (disks, then NICs). */
    public List<VirtioMmioTransport> virtioTransports() {
        return virtio;
    }

    /**
     * Tears down in dependency order: vCPUs stop first, then the devices and their threads
     * (which may still touch guest RAM or raise interrupts), then guest RAM and the KVM fds.
     */
    @Override
    public void close() {
        machine.haltAndJoin();
        if (serialFlusher != null) serialFlusher.interrupt();
        serial.flush();
        closeAll(resources);
        machine.close();
        closeQuietly(serialSink);
    }

    /** Closes in reverse order of creation (devices before the TAPs and loop they use). */
    private static void closeAll(List<AutoCloseable> resources) {
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                log.warn("closing {}: {}", resources.get(i), e.toString());
            }
        }
        resources.clear();
    }

    private static void closeQuietly(OutputStream s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // best effort at teardown
        }
    }

    /** vCPU exits → buses. */
    private final class Exits implements ExitHandler {
        @Override
        public long pioIn(int port, int size) {
            return pio.read(port, size);
        }

        @Override
        public void pioOut(int port, int size, long value) {
            pio.write(port, size, value);
        }

        @Override
        public long mmioRead(long address, int size) {
            return mmio.read(address, size);
        }

        @Override
        public void mmioWrite(long address, int size, long value) {
            mmio.write(address, size, value);
        }
    }

    /** Keeps System.out open when the VM closes its serial sink. */
    private static final class NonClosingStream extends OutputStream {
        private final OutputStream out;

        NonClosingStream(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }
    }

    private static final class TeeStream extends OutputStream {
        private final OutputStream a;
        private final OutputStream b;

        TeeStream(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int x) throws IOException {
            a.write(x);
            b.write(x);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }

        @Override
        public void flush() throws IOException {
            a.flush();
            b.flush();
        }

        @Override
        public void close() throws IOException {
            try {
                a.close();
            } finally {
                b.flush();
            }
        }
    }
}
