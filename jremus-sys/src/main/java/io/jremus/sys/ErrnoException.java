package io.jremus.sys;

/**
 * A system call failed. Carries the call (with its arguments where useful) and the errno, so
 * that the message reads like {@code "KVM_SET_USER_MEMORY_REGION(slot 0, 0x0+0x8000000): EINVAL (22)"}.
 */
public final class ErrnoException extends RuntimeException {
    private final int errno;
    private final String call;

    public ErrnoException(String call, int errno) {
        super(call + ": " + Errno.describe(errno));
        this.errno = errno;
        this.call = call;
    }

    public int errno() {
        return errno;
    }

    public String call() {
        return call;
    }
}
