package io.jremus.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A glibc {@code sigset_t} (128 bytes; signal {@code s} is bit {@code s-1}) in native memory.
 * The kernel's own sigset, which {@code KVM_SET_SIGNAL_MASK} takes, is just the first 8 bytes.
 */
public final class SignalSet {
    public static final int GLIBC_SIZE = 128;
    public static final int KERNEL_SIZE = 8;

    private final MemorySegment seg;

    public SignalSet(Arena arena) {
        this.seg = arena.allocate(GLIBC_SIZE, 8);
    }

    public MemorySegment segment() {
        return seg;
    }

    public SignalSet add(int sig) {
        int bit = sig - 1;
        long off = (bit / 64) * 8L;
        seg.set(JAVA_LONG, off, seg.get(JAVA_LONG, off) | (1L << (bit % 64)));
        return this;
    }

    public SignalSet remove(int sig) {
        int bit = sig - 1;
        long off = (bit / 64) * 8L;
        seg.set(JAVA_LONG, off, seg.get(JAVA_LONG, off) & ~(1L << (bit % 64)));
        return this;
    }

    public boolean contains(int sig) {
        int bit = sig - 1;
        return (seg.get(JAVA_LONG, (bit / 64) * 8L) & (1L << (bit % 64))) != 0;
    }

    /** The kernel-sized (64 signal) mask word. */
    public long kernelWord() {
        return seg.get(JAVA_LONG, 0);
    }
}
