package io.jremus.vmm.machine;

import io.jremus.vmm.MachineLayout;
import io.jremus.vmm.VmmException;
import io.jremus.vmm.devices.InterruptLine;
import io.jremus.vmm.kvm.Kvm;
import io.jremus.vmm.kvm.KvmVcpu;
import io.jremus.vmm.kvm.KvmVm;
import io.jremus.vmm.memory.DirtyTracker;
import io.jremus.vmm.memory.GuestMemory;
import io.jremus.vmm.memory.GuestRamAllocator;
import io.jremus.vmm.vcpu.CpuidSetup;
import io.jremus.vmm.vcpu.ExitHandler;
import io.jremus.vmm.vcpu.LapicSetup;
import io.jremus.vmm.vcpu.MsrSetup;
import io.jremus.vmm.vcpu.StopReason;
import io.jremus.vmm.vcpu.VcpuGate;
import io.jremus.vmm.vcpu.VcpuThread;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The KVM side of one VM: the VM fd with its in-kernel irqchip and PIT, guest RAM with dirty
 * logging, the vCPUs and their threads, and pause/resume of all of them.
 *
 * <p>What the guest sees as devices is not here: the owner passes an {@link ExitHandler} that
 * routes PIO/MMIO exits. Lifecycle: {@link #create} → (load the guest, set registers) →
 * {@link #start} → any number of {@link #pause}/{@link #resume} → {@link #awaitStop} or
 * {@link #stop} → {@link #close}.
 */
public final class Machine implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Machine.class);

    private final Arena arena = Arena.ofShared();
    private final Arena ramArena;
    private final Kvm kvm;
    private final KvmVm vm;
    private final GuestMemory memory;
    private final List<KvmVcpu> vcpus = new ArrayList<>();
    private final List<VcpuThread> threads = new ArrayList<>();
    private final VcpuGate gate = new VcpuGate();
    private final DirtyTracker dirtyTracker;
    private final CompletableFuture<StopReason> stopped = new CompletableFuture<>();
    private volatile boolean paused;

    private Machine(Kvm kvm, KvmVm vm, GuestMemory memory, Arena ramArena) {
        this.kvm = kvm;
        this.vm = vm;
        this.memory = memory;
        this.ramArena = ramArena;
        this.dirtyTracker = new DirtyTracker(vm, memory, arena);
    }

    /**
     * Creates the VM, its RAM (given as guest-physical ranges) and {@code vcpuCount} vCPUs in
     * their reset state (vCPU 0 is the bootstrap processor; the others wait for INIT/SIPI).
     */
    public static Machine create(List<GuestRamAllocator.Range> ram, int vcpuCount) {
        Kvm kvm = Kvm.open();
        int max = kvm.maxVcpus();
        if (vcpuCount < 1 || vcpuCount > max) {
            kvm.close();
            throw new VmmException(VmmException.Kind.USER, "vcpus: " + vcpuCount + " is out of range (this host's KVM allows 1.." + max + ")");
        }
        KvmVm vm = null;
        Machine m = null;
        try {
            vm = kvm.createVm();
            vm.setTssAddr(MachineLayout.KVM_TSS);
            vm.setIdentityMapAddr(MachineLayout.KVM_IDENTITY_MAP);
            vm.createIrqchip();
            vm.createPit2();
            Arena ramArena = Arena.ofShared();
            GuestMemory memory;
            try {
                memory = GuestRamAllocator.allocate(vm, ram, ramArena);
            } catch (RuntimeException e) {
                ramArena.close();
                throw e;
            }
            m = new Machine(kvm, vm, memory, ramArena);
            for (int i = 0; i < vcpuCount; i++) {
                KvmVcpu v = vm.createVcpu(i, m.arena);
                CpuidSetup.apply(kvm, v, vcpuCount);
                int accepted = MsrSetup.apply(v);
                if (accepted < 10) log.debug("vCPU {}: KVM accepted {} of 10 boot MSRs", i, accepted);
                LapicSetup.apply(v);
                m.vcpus.add(v);
            }
            return m;
        } catch (RuntimeException e) {
            if (m != null) {
                m.close();
            } else {
                if (vm != null) vm.close();
                kvm.close();
            }
            throw e;
        }
    }

    public Kvm kvm() {
        return kvm;
    }

    public KvmVm vm() {
        return vm;
    }

    public GuestMemory memory() {
        return memory;
    }

    public List<KvmVcpu> vcpus() {
        return List.copyOf(vcpus);
    }

    /** Harvests KVM's dirty log united with the VMM's bitmap. */
    public DirtyTracker dirtyTracker() {
        return dirtyTracker;
    }

    /** An interrupt input of the in-kernel IOAPIC/PIC, driven through {@code KVM_IRQ_LINE}. */
    public InterruptLine interruptLine(int gsi) {
        return level -> vm.irqLine(gsi, level);
    }

    /** Starts one platform thread per vCPU. */
    public void start(ExitHandler exits) {
        int cpus = Runtime.getRuntime().availableProcessors();
        try {
            for (KvmVcpu v : vcpus) {
                // Pin only when there is a CPU per vCPU to spare; on small hosts let the scheduler place them.
                long mask = cpus > vcpus.size() ? 1L << (v.id() % cpus) : 0;
                VcpuThread t = new VcpuThread(v, exits, gate, mask, this::vcpuStopped);
                threads.add(t);
                t.start();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmmException(VmmException.Kind.INTERNAL, "interrupted while starting vCPUs", e);
        }
    }

    private void vcpuStopped(StopReason reason) {
        if (stopped.complete(reason)) {
            log.debug("VM stopping: {}", reason.detail());
            haltAll();
        }
    }

    /** Called by devices (power-off port, reset) on a vCPU thread: stops the whole VM. */
    public void requestStop(StopReason reason) {
        vcpuStopped(reason);
    }

    private void haltAll() {
        gate.requestStop();
        for (VcpuThread t : threads) t.kick();
    }

    /**
     * Stops every vCPU outside the guest and returns once none can run guest code. Device
     * threads keep running. Idempotent.
     *
     * @return nanoseconds from the request until the last vCPU parked
     */
    public long pause() {
        long t0 = System.nanoTime();
        gate.requestPause();
        for (VcpuThread t : threads) t.kick();
        try {
            while (!gate.awaitAllParked(1, TimeUnit.SECONDS)) {
                if (stopped.isDone()) break;
                for (VcpuThread t : threads) t.kick();
                log.warn("vCPUs slow to pause; kicking again");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmmException(VmmException.Kind.INTERNAL, "interrupted while pausing vCPUs", e);
        }
        paused = true;
        return System.nanoTime() - t0;
    }

    public void resume() {
        paused = false;
        gate.release();
    }

    public boolean isPaused() {
        return paused;
    }

    /** Whether {@link #start} has run (vCPU threads exist). */
    public boolean isStarted() {
        return !threads.isEmpty();
    }

    /** Stops the VM from the host side. */
    public void stop(String why) {
        vcpuStopped(StopReason.hostRequest(why));
    }

    /** Waits for the VM to stop. */
    public StopReason awaitStop(long timeout, TimeUnit unit) throws TimeoutException, InterruptedException {
        try {
            return stopped.get(timeout, unit);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    public CompletableFuture<StopReason> stopped() {
        return stopped;
    }

    /**
     * Stops the VM if it still runs and waits until no vCPU thread is left, so that devices can
     * be torn down before guest RAM and the VM fd go away. Idempotent.
     */
    public void haltAndJoin() {
        stopped.complete(StopReason.hostRequest("machine closed"));
        haltAll();
        for (VcpuThread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        haltAndJoin();
        for (KvmVcpu v : vcpus) v.close();
        vm.close();
        kvm.close();
        arena.close();
        ramArena.close();
    }
}
