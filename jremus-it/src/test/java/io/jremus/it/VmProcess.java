package io.jremus.it;

import io.jremus.cli.testbed.GuestServer;
import io.jremus.cli.testbed.NetTestbed;

import java.io.IOException;
import java.nio.file.Path;

/** The test guest in a jremus VMM process of its own, on the testbed's TAP (see {@link GuestServer}). */
final class VmProcess {
    private VmProcess() {
    }

    static GuestServer start(NetTestbed bed, Path dir, String name, String guestArgs, Path disk) throws IOException {
        return GuestServer.start(GuestServer.Vmm.JREMUS, bed, TestGuest.repoRoot(), TestGuest.elf(), dir, name, guestArgs, disk);
    }
}
