package io.jremus.replication.remus;

import java.time.Duration;

/**
 * How a protected VM is checkpointed and watched.
 *
 * @param vmId             the VM's name at the arbiter
 * @param node             this node's name at the arbiter
 * @param interval         epoch length (default 25 ms = 40 Hz, as in the Remus paper)
 * @param early            also checkpoint as soon as output is waiting, no sooner than {@code minInterval}
 * @param minInterval      lower bound between checkpoints in early mode
 * @param peerTimeout      silence from the peer after which it is suspected (default 300 ms)
 * @param heartbeatEvery   how often each side sends a heartbeat when it has nothing else to send
 * @param netBufferBytes   output held per primary for unacknowledged epochs
 * @param diskEpochBytes   guest writes per epoch before an early checkpoint is forced
 * @param firstEpoch       the number of this primary's first checkpoint: 1 for a fresh lineage,
 *                         E + 1 for a primary restored from committed epoch E (epoch numbers
 *                         continue along the lineage, so disk resyncs can say "changed since");
 *                         the primary never numbers below its disks' open epoch
 */
public record RemusOptions(String vmId, String node, Duration interval, boolean early, Duration minInterval,
                           Duration peerTimeout, Duration heartbeatEvery, long netBufferBytes, long diskEpochBytes,
                           long firstEpoch) {
    public static RemusOptions defaults(String vmId, String node) {
        return new RemusOptions(vmId, node, Duration.ofMillis(25), false, Duration.ofMillis(5), Duration.ofMillis(300),
                Duration.ofMillis(50), 64L << 20, 32L << 20, 1);
    }

    public RemusOptions {
        if (interval.toMillis() < 1 || interval.toSeconds() > 60) throw new IllegalArgumentException("interval " + interval + " out of 1 ms..60 s");
        if (firstEpoch < 1) throw new IllegalArgumentException("first epoch " + firstEpoch + " below 1");
        if (peerTimeout.toMillis() < 10) throw new IllegalArgumentException("peer timeout " + peerTimeout + " below 10 ms");
    }

    public RemusOptions withInterval(Duration d) {
        return new RemusOptions(vmId, node, d, early, minInterval, peerTimeout, heartbeatEvery, netBufferBytes, diskEpochBytes, firstEpoch);
    }

    public RemusOptions withEarly(boolean e, Duration min) {
        return new RemusOptions(vmId, node, interval, e, min, peerTimeout, heartbeatEvery, netBufferBytes, diskEpochBytes, firstEpoch);
    }

    public RemusOptions withPeerTimeout(Duration d) {
        return new RemusOptions(vmId, node, interval, early, minInterval, d, heartbeatEvery, netBufferBytes, diskEpochBytes, firstEpoch);
    }

    public RemusOptions withFirstEpoch(long e) {
        return new RemusOptions(vmId, node, interval, early, minInterval, peerTimeout, heartbeatEvery, netBufferBytes, diskEpochBytes, e);
    }
}
