package io.jremus.replication.stream;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/** Little-endian field access on byte arrays, allocation-free (the stream is little-endian, §2). */
final class Le {
    private static final VarHandle U16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle U32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle U64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private Le() {
    }

    static int u16(byte[] b, int off) {
        return (short) U16.get(b, off) & 0xFFFF;
    }

    static int i32(byte[] b, int off) {
        return (int) U32.get(b, off);
    }

    static long u32(byte[] b, int off) {
        return i32(b, off) & 0xFFFF_FFFFL;
    }

    static long i64(byte[] b, int off) {
        return (long) U64.get(b, off);
    }

    static void put16(byte[] b, int off, int v) {
        U16.set(b, off, (short) v);
    }

    static void put32(byte[] b, int off, int v) {
        U32.set(b, off, v);
    }

    static void put64(byte[] b, int off, long v) {
        U64.set(b, off, v);
    }

    /** Rounds up to a multiple of 8. */
    static long align8(long n) {
        return (n + 7) & ~7L;
    }
}
