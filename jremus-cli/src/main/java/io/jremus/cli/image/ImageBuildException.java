package io.jremus.cli.image;

/**
 * An expected failure while building a guest image: a command that failed (apt-get, dpkg-deb,
 * make), a package without the file we need, a kernel we cannot unpack. The message is one line
 * for the user, naming what was being done and why it failed; the CLI prints it without a stack
 * trace. Bugs still surface as unchecked exceptions.
 */
public final class ImageBuildException extends Exception {
    public ImageBuildException(String message) {
        super(message);
    }

    public ImageBuildException(String message, Throwable cause) {
        super(message, cause);
    }
}
