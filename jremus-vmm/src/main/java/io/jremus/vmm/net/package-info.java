/**
 * Host-side networking for the VMM: {@link io.jremus.vmm.net.Tap} (a TAP interface carrying
 * frames with a virtio-net header), {@link io.jremus.vmm.net.EventLoop} (one epoll thread that
 * wakes device handlers when their fds are ready), {@link io.jremus.vmm.net.EventFd} doorbells,
 * {@link io.jremus.vmm.net.IoVec} scatter-gather arrays, and
 * {@link io.jremus.vmm.net.NetNs} for opening TAPs inside network namespaces.
 *
 * <p>Traffic only ever goes to interfaces the project creates, inside namespaces it creates.
 */
package io.jremus.vmm.net;
