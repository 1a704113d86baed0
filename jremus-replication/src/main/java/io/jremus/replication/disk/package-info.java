/**
 * Disk replication (architecture invariant 3). On the primary,
 * {@link io.jremus.replication.disk.ReplicatingBlockListener} copies every completed guest write
 * into the open epoch and hands each closed epoch's writes to the checkpoint engine; on the
 * backup, {@link io.jremus.replication.disk.EpochDiskBuffer} holds an epoch's writes in memory
 * and applies them to its {@link io.jremus.replication.disk.DiskImage} only when the epoch
 * commits. For re-protection after a failover, {@link io.jremus.replication.disk.DiskSyncTracker}
 * keeps per disk the lineage, a {@link io.jremus.replication.disk.ChunkWriteClock} (which chunk
 * changed in which epoch), the durable {@link io.jremus.replication.disk.DiskSyncMeta} file and,
 * on a primary, the {@link io.jremus.replication.disk.ActivityLog}; a
 * {@link io.jremus.replication.disk.ResyncPlan} decides what a new backup's seed must send.
 */
package io.jremus.replication.disk;
