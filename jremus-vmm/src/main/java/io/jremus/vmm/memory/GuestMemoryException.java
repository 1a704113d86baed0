package io.jremus.vmm.memory;

/**
 * A guest-physical access that does not land inside guest RAM: an address a guest (or a
 * restored record) handed the VMM that it must not trust. Device code catches it and marks
 * the device broken; it never escapes as a VMM crash.
 */
public final class GuestMemoryException extends RuntimeException {
    public GuestMemoryException(String message) {
        super(message);
    }
}
