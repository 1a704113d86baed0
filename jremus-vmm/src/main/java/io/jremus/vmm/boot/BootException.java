package io.jremus.vmm.boot;

/**
 * A kernel, initrd, command line or memory size that cannot be booted. The message names the
 * problem and the offending values; the caller cannot retry with the same input and should stop.
 */
public final class BootException extends RuntimeException {
    public BootException(String message) {
        super(message);
    }
}
