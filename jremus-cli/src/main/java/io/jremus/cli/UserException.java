package io.jremus.cli;

/** A mistake in what the user asked for; shown as one line, exit status 2. */
public final class UserException extends RuntimeException {
    public UserException(String message) {
        super(message);
    }
}
