package io.jremus.vmm.vcpu;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Where vCPU threads wait while the VM is paused, and how the controller knows they have.
 *
 * <p>The vCPU loop reads {@link #pauseRequested()} (a volatile read) before each
 * {@code KVM_RUN}; only when it is set does it take the lock and park in {@link #park}. The
 * controller sets the flag, kicks every vCPU out of the guest, and waits in
 * {@link #awaitAllParked} until each running vCPU has parked: from then until {@link #release}
 * no guest instruction executes, which is what a consistent checkpoint needs.
 */
public final class VcpuGate {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private volatile boolean pauseRequested;
    private volatile boolean stopRequested;
    private int parked;
    private int active;
    private long generation;

    public boolean pauseRequested() {
        return pauseRequested || stopRequested;
    }

    public boolean stopRequested() {
        return stopRequested;
    }

    /** A vCPU thread starts participating. */
    public void enter() {
        lock.lock();
        try {
            active++;
        } finally {
            lock.unlock();
        }
    }

    /** A vCPU thread ends (VM stopped, or it failed). */
    public void leave() {
        lock.lock();
        try {
            active--;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Called by a vCPU thread that saw a pause request: waits until released.
     *
     * @return false if the VM is stopping and the thread should exit its loop
     */
    public boolean park() {
        lock.lock();
        try {
            long gen = generation;
            parked++;
            changed.signalAll();
            while (pauseRequested && !stopRequested && gen == generation) {
                changed.awaitUninterruptibly();
            }
            parked--;
            return !stopRequested;
        } finally {
            lock.unlock();
        }
    }

    public void requestPause() {
        pauseRequested = true;
    }

    public void requestStop() {
        lock.lock();
        try {
            stopRequested = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until every active vCPU thread is parked. Returns false on timeout. */
    public boolean awaitAllParked(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        lock.lock();
        try {
            while (parked < active) {
                long left = deadline - System.nanoTime();
                if (left <= 0) return false;
                changed.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Lets parked vCPUs run again. */
    public void release() {
        lock.lock();
        try {
            pauseRequested = false;
            generation++;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
