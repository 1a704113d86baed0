/**
 * Failure detection, roles and arbitration: heartbeats, the witness service, and (later)
 * Pacemaker + Corosync through the OCF resource agent.
 */
package io.jremus.cluster;
