package io.jremus.vmm.devices.virtio;

/**
 * Little-endian access to a device config space kept as a byte array, for
 * {@link VirtioDevice#readConfig}/{@code writeConfig}. Accesses that run past the end read 0 and
 * write nothing, since offsets and sizes come from the guest.
 */
public final class ConfigSpace {
    private ConfigSpace() {
    }

    public static long read(byte[] config, int offset, int size) {
        if (offset < 0 || size < 0 || offset > config.length - size) return 0;
        long v = 0;
        for (int i = size - 1; i >= 0; i--) v = (v << 8) | (config[offset + i] & 0xFF);
        return v;
    }

    /** @return whether the bytes were written */
    public static boolean write(byte[] config, int offset, int size, long value) {
        if (offset < 0 || size < 0 || offset > config.length - size) return false;
        for (int i = 0; i < size; i++) config[offset + i] = (byte) (value >>> (8 * i));
        return true;
    }
}
