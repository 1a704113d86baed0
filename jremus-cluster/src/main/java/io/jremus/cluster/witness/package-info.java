/**
 * The witness: a small third party that grants one node at a time the right to run a VM alone,
 * under a numbered term. {@link io.jremus.cluster.witness.WitnessLedger} decides (pure, injected
 * clock), {@link io.jremus.cluster.witness.FileTermStore} keeps terms across restarts,
 * {@link io.jremus.cluster.witness.WitnessServer} and {@link io.jremus.cluster.witness.WitnessClient}
 * carry the line protocol of docs/witness.md over a pluggable socket factory.
 */
package io.jremus.cluster.witness;
