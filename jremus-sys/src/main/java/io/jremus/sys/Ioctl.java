package io.jremus.sys;

/**
 * Linux's {@code _IOC} request-number encoding for x86-64 ({@code asm-generic/ioctl.h}):
 * {@code dir<<30 | size<<16 | type<<8 | nr}. Numbers are returned as the unsigned 32-bit value
 * in a {@code long}, which is how the variadic {@code ioctl} downcall takes them.
 */
public final class Ioctl {
    private Ioctl() {
    }

    public static final int NONE = 0;
    public static final int WRITE = 1;
    public static final int READ = 2;

    public static long ioc(int dir, int type, int nr, long size) {
        if (size < 0 || size >= (1 << 14)) throw new IllegalArgumentException("ioctl size out of range: " + size);
        return ((long) dir << 30) | (size << 16) | ((long) type << 8) | nr;
    }

    public static long io(int type, int nr) {
        return ioc(NONE, type, nr, 0);
    }

    public static long ior(int type, int nr, long size) {
        return ioc(READ, type, nr, size);
    }

    public static long iow(int type, int nr, long size) {
        return ioc(WRITE, type, nr, size);
    }

    public static long iowr(int type, int nr, long size) {
        return ioc(READ | WRITE, type, nr, size);
    }
}
