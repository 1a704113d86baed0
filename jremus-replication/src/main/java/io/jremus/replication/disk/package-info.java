/**
 * Disk replication (architecture invariant 3). On the primary,
 * {@link io.jremus.replication.disk.ReplicatingBlockListener} copies every completed guest write
 * into the open epoch and hands each closed epoch's writes to the checkpoint engine; on the
 * backup, {@link io.jremus.replication.disk.EpochDiskBuffer} holds an epoch's writes in memory
 * and applies them to its {@link io.jremus.replication.disk.DiskImage} only when the epoch
 * commits. {@link io.jremus.replication.disk.DirtyBlockBitmap} records which blocks changed,
 * for the resync after a failover.
 */
package io.jremus.replication.disk;
