package io.jremus.vmm.snapshot;

import io.jremus.vmm.config.VmConfig;
import io.jremus.vmm.memory.GuestMemory;

/**
 * Guest memory contents to load into a fresh VM's RAM (which starts all zero): a snapshot
 * file, a chain of them, or a replication backup's committed image. Its headers were validated
 * when it was opened; the page data is checked while it is copied, and a failure there means
 * the VM being built must be discarded.
 */
public interface MemoryImage {
    /**
     * Refuses, before any VM is created, an image that cannot be loaded into a VM of
     * {@code config} (memory size or layout, vCPU count, device shape).
     */
    default void checkFits(VmConfig config) throws SnapshotException {
    }

    /**
     * Copies the image into {@code memory}.
     *
     * @throws SnapshotException if the layout does not match or page data fails its check
     */
    void loadInto(GuestMemory memory) throws SnapshotException;
}
