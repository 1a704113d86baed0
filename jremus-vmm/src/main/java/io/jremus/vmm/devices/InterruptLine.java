package io.jremus.vmm.devices;

/**
 * One interrupt input (a GSI of the in-kernel IOAPIC/PIC). Devices drive it as a level:
 * {@code set(true)} while they have something pending, {@code set(false)} once the guest has
 * acknowledged it. Safe to call from any thread.
 */
public interface InterruptLine {
    void set(boolean level);

    /** An edge: raise then lower (for devices that signal events, not conditions). */
    default void pulse() {
        set(true);
        set(false);
    }

    /** A line connected to nothing, for tests and devices without an interrupt. */
    InterruptLine NONE = level -> { };
}
