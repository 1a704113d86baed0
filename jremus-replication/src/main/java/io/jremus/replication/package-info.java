/**
 * Remus replication: the stream format, the primary's checkpoint engine, the backup's receiver,
 * network output commit, disk replication and failover. Sees the VMM only through narrow
 * interfaces (pause/resume, dirty pages, state capture/restore, device checkpoint hooks).
 */
package io.jremus.replication;
