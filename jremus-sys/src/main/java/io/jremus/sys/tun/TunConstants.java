package io.jremus.sys.tun;

import static io.jremus.sys.Ioctl.ior;
import static io.jremus.sys.Ioctl.iow;

/** TUN/TAP ioctls and flags from {@code linux/if_tun.h}; checked in {@code KvmAbiTest}. */
public final class TunConstants {
    private TunConstants() {
    }

    private static final int T = 'T';

    public static final long TUNSETIFF = iow(T, 202, 4);
    public static final long TUNSETPERSIST = iow(T, 203, 4);
    public static final long TUNSETOFFLOAD = iow(T, 208, 4);
    public static final long TUNGETIFF = ior(T, 210, 4);
    public static final long TUNSETVNETHDRSZ = iow(T, 216, 4);

    public static final int IFF_TUN = 0x0001;
    public static final int IFF_TAP = 0x0002;
    public static final int IFF_NO_PI = 0x1000;
    public static final int IFF_VNET_HDR = 0x4000;

    public static final int TUN_F_CSUM = 0x01;
    public static final int TUN_F_TSO4 = 0x02;
    public static final int TUN_F_TSO6 = 0x04;
    public static final int TUN_F_UFO = 0x10;

    /** {@code struct ifreq}: name[16] then a union whose {@code ifr_flags} is a short at 16. */
    public static final long IFREQ_SIZE = 40;
    public static final long IFREQ_FLAGS = 16;
    public static final int IFNAMSIZ = 16;
}
