/**
 * Failover decisions as the replication layer sees them: the narrow {@link
 * io.jremus.replication.failover.Arbiter} interface (who may act alone, under which numbered
 * term), and its answers. The implementations (witness service, Pacemaker) live in
 * jremus-cluster.
 */
package io.jremus.replication.failover;
