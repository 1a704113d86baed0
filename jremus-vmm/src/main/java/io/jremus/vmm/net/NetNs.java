package io.jremus.vmm.net;

import io.jremus.sys.ErrnoException;
import io.jremus.sys.Libc;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * Runs code inside a named network namespace ({@code ip netns add NAME}, bound at
 * {@code /var/run/netns/NAME}) without moving the JVM: a fresh platform thread joins the
 * namespace with {@code setns(CLONE_NEWNET)}, runs the task and ends. File descriptors it opens
 * (a TAP, a socket) stay bound to that namespace and keep working from any thread afterwards,
 * which is how a VMM in the root namespace serves a TAP that lives in a test's namespace.
 *
 * <p>The thread is never reused: it is in the wrong namespace for anything else. Needs
 * CAP_SYS_ADMIN (root).
 */
public final class NetNs {
    private NetNs() {
    }

    /** Where {@code ip netns} binds named namespaces. */
    public static final String RUN_DIR = "/var/run/netns/";

    /**
     * Calls {@code task} on a new thread inside namespace {@code name} and returns its result.
     *
     * @throws TapException        if the namespace cannot be entered (missing, or not permitted)
     * @throws ExecutionException  wrapping whatever the task threw
     */
    public static <T> T runIn(String name, Callable<T> task) throws ExecutionException, InterruptedException {
        if (name.isEmpty() || name.contains("/")) throw new IllegalArgumentException("invalid namespace name '" + name + "'");
        FutureTask<T> future = new FutureTask<>(() -> {
            int nsFd;
            try {
                nsFd = Libc.open(RUN_DIR + name, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
            } catch (ErrnoException e) {
                throw new TapException("cannot enter network namespace " + name + ": " + e.getMessage()
                        + " (create it with: ip netns add " + name + ")", e);
            }
            try {
                NetSyscalls.setns(nsFd, NetSyscalls.CLONE_NEWNET);
            } catch (ErrnoException e) {
                throw new TapException("cannot enter network namespace " + name + ": " + e.getMessage()
                        + " (run as root)", e);
            } finally {
                Libc.close(nsFd);
            }
            return task.call();
        });
        Thread t = Thread.ofPlatform().name("netns-" + name).daemon(true).start(future);
        try {
            return future.get();
        } finally {
            t.join();
        }
    }
}
