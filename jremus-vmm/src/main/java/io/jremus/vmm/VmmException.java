package io.jremus.vmm;

/**
 * The one exception type that leaves the VMM module. {@link Kind} tells the caller what to do:
 * a user mistake is shown as one line, a host problem names what is missing, a guest fault
 * stops only that VM.
 */
public final class VmmException extends RuntimeException {
    /** What the caller should do about it. */
    public enum Kind {
        /** Bad input from the user (config, files, flags): print the message, exit non-zero. */
        USER,
        /** The host lacks something (/dev/kvm, permission, capability): print the message. */
        HOST,
        /** The guest did something the VM cannot continue from (emulation failure, triple fault). */
        GUEST,
        /** A bug or an unexpected system-call failure in the VMM itself. */
        INTERNAL
    }

    private final Kind kind;

    public VmmException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public VmmException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
