package io.jremus.vmm.boot;

import io.jremus.vmm.MachineLayout;
import io.jremus.vmm.memory.GuestMemory;

import java.nio.charset.StandardCharsets;

/**
 * Writes the kernel command line, NUL-terminated, at {@link MachineLayout#CMDLINE}. The whole
 * {@link MachineLayout#CMDLINE_MAX} area is cleared first so no stale bytes follow it.
 */
final class BootCmdline {
    private BootCmdline() {
    }

    /**
     * @param maxChars the most bytes (without the NUL) the kernel accepts
     * @return the guest address of the command line
     */
    static long write(GuestMemory memory, String cmdline, long maxChars) {
        byte[] bytes = cmdline.getBytes(StandardCharsets.UTF_8);
        for (byte b : bytes) {
            if (b == 0) throw new BootException("kernel command line contains a NUL character");
        }
        long limit = Math.min(maxChars, MachineLayout.CMDLINE_MAX - 1);
        if (bytes.length > limit) {
            throw new BootException("kernel command line is " + bytes.length + " bytes; at most " + limit + " fit");
        }
        memory.sliceForWrite(MachineLayout.CMDLINE, MachineLayout.CMDLINE_MAX).fill((byte) 0);
        memory.write(MachineLayout.CMDLINE, bytes);
        return MachineLayout.CMDLINE;
    }
}
