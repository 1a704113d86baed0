package io.jremus.vmm.vcpu;

/**
 * Why a VM stopped running, with stable codes for status output and exit statuses.
 *
 * @param kind   what happened
 * @param code   the guest's power-off status for {@link Kind#POWER_OFF}, else 0
 * @param detail a human sentence (for failures: what KVM reported, with RIP)
 */
public record StopReason(Kind kind, int code, String detail) {
    public enum Kind {
        /** The guest powered off (debug-exit port, ACPI S5, or KVM system event). */
        POWER_OFF,
        /** The guest asked for a reset (i8042 0xFE, ACPI reset, KVM system event). */
        RESET,
        /** Triple fault: KVM_EXIT_SHUTDOWN. */
        TRIPLE_FAULT,
        /** KVM could not run the guest (emulation failure, failed entry, unknown exit). */
        GUEST_ERROR,
        /** The host asked the VM to stop (a command, a signal, a test). */
        HOST_REQUEST,
        /** A VMM bug or unexpected system-call failure. */
        VMM_ERROR
    }

    public static StopReason powerOff(int code) {
        return new StopReason(Kind.POWER_OFF, code, "guest powered off with status " + code);
    }

    public static StopReason reset() {
        return new StopReason(Kind.RESET, 0, "guest requested a reset");
    }

    public static StopReason hostRequest(String why) {
        return new StopReason(Kind.HOST_REQUEST, 0, why);
    }
}
