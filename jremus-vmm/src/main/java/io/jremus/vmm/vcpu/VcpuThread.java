package io.jremus.vmm.vcpu;

import io.jremus.sys.Errno;
import io.jremus.sys.Libc;
import io.jremus.vmm.kvm.KvmVcpu;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;

import static io.jremus.sys.kvm.KvmConstants.*;
import static io.jremus.sys.kvm.KvmStructs.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * One vCPU's platform thread: runs {@code KVM_RUN} in a loop, hands PIO/MMIO exits to the
 * {@link ExitHandler}, parks at the {@link VcpuGate} when a pause is requested, and reports why
 * it stopped.
 *
 * <p>Assumes an in-kernel irqchip (HLT, LAPIC and IOAPIC are handled by KVM). The hot path
 * allocates nothing: the errno capture, the signal-drain buffers and the run page are per
 * thread. Kicking follows the shared notes: {@code immediate_exit = 1}, then a thread-directed
 * RT signal that this thread blocks outside {@code KVM_RUN}.
 */
public final class VcpuThread implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(VcpuThread.class);

    private final KvmVcpu vcpu;
    private final ExitHandler exits;
    private final VcpuGate gate;
    private final Consumer<StopReason> onStop;
    private final CountDownLatch started = new CountDownLatch(1);
    private final long affinityMask;
    private volatile long pthread;
    private volatile boolean finished;
    private final Object kickLock = new Object();
    private Thread thread;

    /**
     * @param affinityMask CPUs to pin this thread to (bit i = host CPU i), or 0 for no pinning
     * @param onStop       called once, from this thread, when the guest or an error stops the VM
     */
    public VcpuThread(KvmVcpu vcpu, ExitHandler exits, VcpuGate gate, long affinityMask, Consumer<StopReason> onStop) {
        this.vcpu = vcpu;
        this.exits = exits;
        this.gate = gate;
        this.affinityMask = affinityMask;
        this.onStop = onStop;
    }

    public KvmVcpu vcpu() {
        return vcpu;
    }

    /** Starts the platform thread and waits until it can be kicked safely. */
    public void start() throws InterruptedException {
        gate.enter();
        thread = Thread.ofPlatform().name("vcpu-" + vcpu.id()).daemon(true).start(this);
        started.await();
    }

    public void join() throws InterruptedException {
        if (thread != null) thread.join();
    }

    public boolean finished() {
        return finished;
    }

    /** Forces the vCPU out of the guest soon; safe from any thread. */
    public void kick() {
        vcpu.requestImmediateExit(true);
        // Under the lock so no signal is sent after the thread drained its last one and left:
        // a pending kick must never outlive the thread's blocked mask.
        synchronized (kickLock) {
            long t = pthread;
            if (t != 0 && !finished) {
                int err = Libc.pthreadKill(t, KickSignal.NUMBER);
                if (err != 0) log.debug("kick of vCPU {} failed: errno {}", vcpu.id(), err);
            }
        }
    }

    /** Marks the thread finished and dequeues any kick still pending for it. */
    private void finish(KickSignal.Drainer drainer, MemorySegment capture) {
        synchronized (kickLock) {
            finished = true;
            if (drainer != null) drainer.drain(capture);
        }
    }

    @Override
    public void run() {
        try {
            long kvmMask = KickSignal.blockInCurrentThread();
            vcpu.setSignalMask(kvmMask);
            if (affinityMask != 0) {
                try {
                    Libc.schedSetaffinity(affinityMask);
                } catch (RuntimeException e) {
                    log.debug("could not pin vCPU {}: {}", vcpu.id(), e.getMessage());
                }
            }
            pthread = Libc.pthreadSelf();
        } catch (RuntimeException e) {
            finished = true;
            started.countDown();
            gate.leave();
            onStop.accept(new StopReason(StopReason.Kind.VMM_ERROR, 0, "vCPU " + vcpu.id() + " setup failed: " + e.getMessage()));
            return;
        }
        started.countDown();
        StopReason reason = null;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(Linkers.CAPTURE_SIZE, 8);
            KickSignal.Drainer drainer = new KickSignal.Drainer(arena);
            try {
                reason = loop(capture, drainer);
            } catch (RuntimeException e) {
                log.error("vCPU {} failed", vcpu.id(), e);
                reason = new StopReason(StopReason.Kind.VMM_ERROR, 0, "vCPU " + vcpu.id() + ": " + e);
            } finally {
                finish(drainer, capture);
            }
        } finally {
            if (!finished) finish(null, null);
            gate.leave();
            if (reason != null) onStop.accept(reason);
        }
    }

    /** Returns the stop reason, or null when the host asked to stop. */
    private StopReason loop(MemorySegment capture, KickSignal.Drainer drainer) {
        MemorySegment run = vcpu.runPage();
        while (true) {
            if (gate.pauseRequested()) {
                if (gate.stopRequested() || !gate.park()) return null;
            }
            int rc = vcpu.run(capture);
            if (rc < 0) {
                int errno = Libc.errno(capture);
                if (errno == Errno.EINTR || errno == Errno.EAGAIN) {
                    // A kick: immediate_exit or the RT signal. exit_reason is stale here.
                    run.set(JAVA_BYTE, RUN_IMMEDIATE_EXIT, (byte) 0);
                    drainer.drain(capture);
                    continue;
                }
                return new StopReason(StopReason.Kind.VMM_ERROR, 0, "KVM_RUN on vCPU " + vcpu.id() + ": " + Errno.describe(errno));
            }
            StopReason stop = handleExit(run);
            if (stop != null) return stop;
        }
    }

    private StopReason handleExit(MemorySegment run) {
        int reason = run.get(JAVA_INT, RUN_EXIT_REASON);
        switch (reason) {
            case KVM_EXIT_IO -> {
                handleIo(run);
                return null;
            }
            case KVM_EXIT_MMIO -> {
                handleMmio(run);
                return null;
            }
            case KVM_EXIT_HLT, KVM_EXIT_INTR, KVM_EXIT_IRQ_WINDOW_OPEN -> {
                return null;
            }
            case KVM_EXIT_SHUTDOWN -> {
                return new StopReason(StopReason.Kind.TRIPLE_FAULT, 0, "vCPU " + vcpu.id() + " triple-faulted (KVM_EXIT_SHUTDOWN) at rip=0x" + Long.toHexString(rip()));
            }
            case KVM_EXIT_SYSTEM_EVENT -> {
                int type = run.get(JAVA_INT, RUN_SYSTEM_EVENT_TYPE);
                if (type == KVM_SYSTEM_EVENT_RESET) return StopReason.reset();
                if (type == KVM_SYSTEM_EVENT_SHUTDOWN) return StopReason.powerOff(0);
                return new StopReason(StopReason.Kind.GUEST_ERROR, 0, "guest system event " + type + " (crash)");
            }
            case KVM_EXIT_INTERNAL_ERROR -> {
                int sub = run.get(JAVA_INT, RUN_INTERNAL_SUBERROR);
                String what = sub == KVM_INTERNAL_ERROR_EMULATION ? "instruction emulation failed" : "internal error " + sub;
                return new StopReason(StopReason.Kind.GUEST_ERROR, 0,
                        "KVM " + what + " on vCPU " + vcpu.id() + " at rip=0x" + Long.toHexString(rip()));
            }
            case KVM_EXIT_FAIL_ENTRY -> {
                return new StopReason(StopReason.Kind.GUEST_ERROR, 0, "KVM could not enter the guest on vCPU " + vcpu.id()
                        + ": hardware reason 0x" + Long.toHexString(run.get(JAVA_LONG, RUN_FAIL_ENTRY_REASON)));
            }
            default -> {
                return new StopReason(StopReason.Kind.GUEST_ERROR, 0, "unhandled KVM exit " + reason + " on vCPU " + vcpu.id()
                        + " at rip=0x" + Long.toHexString(rip()));
            }
        }
    }

    private void handleIo(MemorySegment run) {
        boolean out = run.get(JAVA_BYTE, RUN_IO_DIRECTION) == KVM_EXIT_IO_OUT;
        int size = run.get(JAVA_BYTE, RUN_IO_SIZE);
        int port = Short.toUnsignedInt(run.get(JAVA_SHORT, RUN_IO_PORT));
        int count = run.get(JAVA_INT, RUN_IO_COUNT);
        long off = run.get(JAVA_LONG, RUN_IO_DATA_OFFSET);
        // String I/O (rep outsb/insb) arrives as one exit with count elements.
        for (int i = 0; i < count; i++, off += size) {
            if (out) {
                exits.pioOut(port, size, readLe(run, off, size));
            } else {
                writeLe(run, off, size, exits.pioIn(port, size));
            }
        }
    }

    private void handleMmio(MemorySegment run) {
        long addr = run.get(JAVA_LONG, RUN_MMIO_PHYS_ADDR);
        int len = run.get(JAVA_INT, RUN_MMIO_LEN);
        boolean write = run.get(JAVA_BYTE, RUN_MMIO_IS_WRITE) != 0;
        if (write) {
            exits.mmioWrite(addr, len, readLe(run, RUN_MMIO_DATA, len));
        } else {
            writeLe(run, RUN_MMIO_DATA, len, exits.mmioRead(addr, len));
        }
    }

    private static long readLe(MemorySegment s, long off, int len) {
        long v = 0;
        for (int i = len - 1; i >= 0; i--) v = (v << 8) | (s.get(JAVA_BYTE, off + i) & 0xFF);
        return v;
    }

    private static void writeLe(MemorySegment s, long off, int len, long v) {
        for (int i = 0; i < len; i++, v >>>= 8) s.set(JAVA_BYTE, off + i, (byte) v);
    }

    private long rip() {
        try (Arena a = Arena.ofConfined()) {
            return vcpu.getRegs(a).get(JAVA_LONG, REGS_RIP);
        } catch (RuntimeException e) {
            return -1;
        }
    }

    /** Size of the errno capture state, from the linker. */
    private static final class Linkers {
        static final long CAPTURE_SIZE = java.lang.foreign.Linker.Option.captureStateLayout().byteSize();
    }
}
