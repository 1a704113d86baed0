package io.jremus.vmm.devices;

/**
 * What a device does around each checkpoint, with the names Xen's libxl uses. The checkpoint
 * engine calls {@link #postSuspend} after the vCPUs stopped and before it harvests dirty pages
 * and captures state, and {@link #preResume} just before the vCPUs run again; both on the
 * checkpoint thread. A device that writes guest memory from a thread of its own (virtio-net
 * receive) must stop doing so in {@code postSuspend}: a store after the harvest but before
 * the resume would belong to no checkpoint.
 */
public interface CheckpointHooks {
    /** The VM is paused: stop touching guest memory and device state until {@link #preResume}. */
    void postSuspend();

    /** The VM is about to run again. */
    void preResume();
}
