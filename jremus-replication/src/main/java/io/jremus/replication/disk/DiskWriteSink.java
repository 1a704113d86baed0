package io.jremus.replication.disk;

import java.util.List;

/**
 * Takes each closed epoch's guest writes on the primary: the checkpoint engine, which puts them
 * into checkpoint {@code epoch}'s stream ahead of its CHECKPOINT_END.
 */
@FunctionalInterface
public interface DiskWriteSink {
    /**
     * Called on the thread that called {@link ReplicatingBlockListener#postSuspend()}, once per
     * epoch, even when {@code writes} is empty.
     *
     * @param writes in completion order (later writes to the same sectors win); the list is the
     *               sink's to keep
     */
    void epochClosed(long epoch, List<DiskWrite> writes);
}
