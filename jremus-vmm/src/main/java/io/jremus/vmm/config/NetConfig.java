package io.jremus.vmm.config;

import io.jremus.vmm.net.MacAddress;
import java.util.Objects;

/**
 * One {@code [[net]]} table: a virtio-net NIC backed by a host TAP device.
 *
 * @param tap    the TAP interface name, 1..15 characters (Linux's IFNAMSIZ minus the NUL)
 * @param mac    the guest's unicast MAC; derived from the VM name if the file gives none
 * @param create whether jremus creates the TAP itself (and removes it afterwards) rather than
 *               attaching to one that an administrator or a network script made
 */
public record NetConfig(String tap, MacAddress mac, boolean create) {
    public NetConfig {
        Objects.requireNonNull(tap, "tap");
        Objects.requireNonNull(mac, "mac");
    }
}
