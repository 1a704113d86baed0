package io.jremus.vmm.devices.virtio.net;

import io.jremus.vmm.net.MacAddress;

/**
 * What the VM's configuration says about one NIC.
 *
 * @param mac the guest's MAC address (offered with VIRTIO_NET_F_MAC); must be unicast
 * @param mtu the MTU to advertise with VIRTIO_NET_F_MTU, or 0 not to offer it (the guest then
 *            uses 1500); 68..65535 otherwise. Should match the TAP's MTU.
 */
public record VirtioNetConfig(MacAddress mac, int mtu) {
    public VirtioNetConfig {
        if (mac == null) throw new IllegalArgumentException("a virtio-net device needs a MAC address");
        if (mac.isMulticast()) throw new IllegalArgumentException("MAC " + mac + " is multicast; a NIC needs a unicast address");
        if (mtu != 0 && (mtu < 68 || mtu > 65535)) throw new IllegalArgumentException("MTU " + mtu + " is outside 68..65535");
    }

    /** A NIC with the given MAC and no advertised MTU. */
    public static VirtioNetConfig of(MacAddress mac) {
        return new VirtioNetConfig(mac, 0);
    }
}
