/**
 * Network output commit: {@link io.jremus.replication.netbuf.BufferedOutputGate} holds the
 * guest's transmitted frames per epoch and releases epoch N only after the backup acknowledged
 * checkpoint N (architecture invariant 1); {@link io.jremus.replication.netbuf.FrameSink} is the
 * link they are released to. Inbound packets do not pass through here: they are delivered to the
 * guest at once, since losing one in a failover looks to its sender like loss on the wire.
 */
package io.jremus.replication.netbuf;
