package io.jremus.vmm.net;

import io.jremus.sys.ErrnoException;
import io.jremus.sys.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The few libc calls host networking needs that {@link Libc} does not bind: {@code setns} (to
 * open a TAP inside a network namespace) and {@code if_nametoindex} (to tell "attach to an
 * existing TAP" from "create one"). Kept here rather than in jremus-sys so that this package
 * owns what it uses; errno goes through Libc's per-thread capture segment, so
 * {@link Libc#errno()} reads it. Assumes x86-64 Linux with glibc.
 */
final class NetSyscalls {
    private NetSyscalls() {
    }

    /** {@code CLONE_NEWNET} from {@code linux/sched.h}. */
    static final int CLONE_NEWNET = 0x4000_0000;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final MethodHandle SETNS = LINKER.downcallHandle(
            LINKER.defaultLookup().find("setns").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), ERRNO);
    private static final MethodHandle IF_NAMETOINDEX = LINKER.downcallHandle(
            LINKER.defaultLookup().find("if_nametoindex").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS), ERRNO);

    /** Moves the calling thread into the namespace behind {@code nsFd}. */
    static void setns(int nsFd, int nsType) {
        int rc;
        try {
            rc = (int) SETNS.invokeExact(Libc.captureSegment(), nsFd, nsType);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        if (rc < 0) throw new ErrnoException("setns(" + nsFd + ", 0x" + Integer.toHexString(nsType) + ")", Libc.errno());
    }

    /** The interface index of {@code name} in the calling thread's network namespace, or 0 if there is none. */
    static int ifNameToIndex(String name) {
        try (Arena a = Arena.ofConfined()) {
            return (int) IF_NAMETOINDEX.invokeExact(Libc.captureSegment(), a.allocateFrom(name));
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
