package io.jremus.cli.bench;

/**
 * The test guest's CPU workload run on the host: xorshift64 (13, 7, 17) from the guest's fixed
 * seed. The guest's README documents the same algorithm, so results must match bit for bit.
 */
public final class HostCpuLoop {
    /** Must equal the guest's XORSHIFT_SEED. */
    public static final long SEED = 88172645463325252L;

    private HostCpuLoop() {
    }

    public static long result(long iters) {
        long x = SEED;
        for (long i = 0; i < iters; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
        }
        return x;
    }

    /** Wall time of {@link #result} after a warm-up, in milliseconds. */
    public static double millis(long iters) {
        result(Math.min(iters, 50_000_000)); // JIT warm-up
        long t0 = System.nanoTime();
        long r = result(iters);
        long t1 = System.nanoTime();
        if (r == 42) System.err.print(""); // keep the result live
        return (t1 - t0) / 1e6;
    }
}
