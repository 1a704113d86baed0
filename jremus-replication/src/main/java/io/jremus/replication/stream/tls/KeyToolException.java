package io.jremus.replication.stream.tls;

/** Making keys failed; the message is one line that says which step and why. */
public final class KeyToolException extends Exception {
    public KeyToolException(String message) {
        super(message);
    }
}
