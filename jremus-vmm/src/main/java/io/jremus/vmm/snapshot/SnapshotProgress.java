package io.jremus.vmm.snapshot;

/**
 * Progress of writing or loading guest memory, for a CLI to print. Called often (every page
 * record); implementations throttle themselves, e.g. {@link #everyPercent}.
 */
@FunctionalInterface
public interface SnapshotProgress {
    /** @param done units (bytes or pages) handled so far, @param total all units */
    void update(long done, long total);

    SnapshotProgress NONE = (d, t) -> {
    };

    /** Calls {@code sink} with the whole percentage each time it crosses a multiple of {@code step}. */
    static SnapshotProgress everyPercent(int step, java.util.function.IntConsumer sink) {
        return new SnapshotProgress() {
            private int last = -1;

            @Override
            public void update(long done, long total) {
                int pct = total <= 0 ? 100 : (int) Math.min(100, done * 100 / total);
                int bucket = pct / step * step;
                if (bucket > last) {
                    last = bucket;
                    sink.accept(bucket);
                }
            }
        };
    }
}
