package io.jremus.vmm.devices.virtio.net;

/**
 * Constants of the virtio network device (virtio 1.x §5.1): feature bits, the config space
 * layout and the {@code virtio_net_hdr_v1} that precedes every frame on both queues.
 *
 * <pre>
 *   virtio_net_hdr_v1 (12 bytes, little-endian):
 *     0 flags u8 | 1 gso_type u8 | 2 hdr_len le16 | 4 gso_size le16 | 6 csum_start le16
 *     | 8 csum_offset le16 | 10 num_buffers le16
 *   config: 0 mac[6] | 6 status le16 | 8 max_virtqueue_pairs le16 | 10 mtu le16
 * </pre>
 */
public final class VirtioNet {
    private VirtioNet() {
    }

    public static final int DEVICE_TYPE = 1;
    public static final int RX_QUEUE = 0;
    public static final int TX_QUEUE = 1;
    public static final int HDR_LEN = 12;
    /** Ethernet header: a shorter frame is not a frame. */
    public static final int ETH_HLEN = 14;
    /**
     * Largest frame (without the virtio header) the device moves. Without GSO offloads a frame
     * is at most MTU + Ethernet (+ VLAN) header; 64 KiB covers any MTU a TAP can have.
     */
    public static final int MAX_FRAME = 65536;

    public static final long F_MTU = 1L << 3;
    public static final long F_MAC = 1L << 5;
    public static final long F_MRG_RXBUF = 1L << 15;
    public static final long F_STATUS = 1L << 16;

    public static final int S_LINK_UP = 1;

    static final int HDR_F_NEEDS_CSUM = 1;
    static final int HDR_FLAGS = 0;
    static final int HDR_GSO_TYPE = 1;
    static final int HDR_NUM_BUFFERS = 10;

    static final int CONFIG_MAC = 0;
    static final int CONFIG_STATUS = 6;
    static final int CONFIG_MAX_PAIRS = 8;
    static final int CONFIG_MTU = 10;
    static final int CONFIG_LENGTH = 12;
}
