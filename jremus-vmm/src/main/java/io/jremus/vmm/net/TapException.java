package io.jremus.vmm.net;

/** A TAP interface could not be opened or configured; the message says which and why. */
public final class TapException extends RuntimeException {
    public TapException(String message) {
        super(message);
    }

    public TapException(String message, Throwable cause) {
        super(message, cause);
    }
}
