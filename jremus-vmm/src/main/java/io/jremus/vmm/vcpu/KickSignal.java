package io.jremus.vmm.vcpu;

import io.jremus.sys.Libc;
import io.jremus.sys.SignalSet;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The real-time signal used to kick a vCPU thread out of {@code KVM_RUN} without a handler.
 *
 * <p>The vCPU thread blocks it for itself and lets KVM unblock it only inside {@code KVM_RUN}
 * ({@code KVM_SET_SIGNAL_MASK}); a kick therefore makes {@code KVM_RUN} return EINTR and leaves
 * the signal pending, to be drained with {@code sigtimedwait}. Never send it to a thread that
 * has not blocked it: with no handler an RT signal terminates the whole JVM (shared notes).
 */
public final class KickSignal {
    /** SIGRTMIN+5: glibc reserves the first two, the JVM uses none of the RT range. */
    public static final int NUMBER = Libc.sigrtmin() + 5;

    private KickSignal() {
    }

    /**
     * Blocks the kick signal in the calling thread and returns the kernel sigset word that
     * {@code KVM_RUN} should run with: the thread's mask minus the kick signal.
     */
    public static long blockInCurrentThread() {
        try (Arena a = Arena.ofConfined()) {
            SignalSet kick = new SignalSet(a).add(NUMBER);
            Libc.pthreadSigmask(Libc.SIG_BLOCK, kick.segment(), MemorySegment.NULL);
            SignalSet current = new SignalSet(a);
            Libc.pthreadSigmask(Libc.SIG_BLOCK, MemorySegment.NULL, current.segment());
            return current.remove(NUMBER).kernelWord();
        }
    }

    /** Per-thread buffers for {@link #drain}, so the hot path allocates nothing. */
    public static final class Drainer {
        private final MemorySegment set;
        private final MemorySegment info;
        private final MemorySegment zeroTimeout;

        public Drainer(Arena arena) {
            SignalSet s = new SignalSet(arena).add(NUMBER);
            this.set = s.segment();
            this.info = arena.allocate(128, 8);
            this.zeroTimeout = arena.allocate(16, 8);
        }

        /**
         * Dequeues every pending kick, so the next KVM_RUN does not return EINTR at once. RT
         * signals queue (two kickers leave two instances), so this loops until none is left;
         * an instance left behind would kill the JVM when the thread exits.
         */
        public void drain(MemorySegment capture) {
            while (Libc.sigtimedwaitRaw(capture, set, info, zeroTimeout) > 0) {
                // dequeued one; look for another
            }
        }
    }
}
