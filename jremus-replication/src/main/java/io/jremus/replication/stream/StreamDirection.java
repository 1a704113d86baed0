package io.jremus.replication.stream;

/** The two directions of a replication session. */
public enum StreamDirection {
    /** Primary to backup: stream header, seed, epochs. */
    FORWARD,
    /** Backup to primary: back header, ACK, HEARTBEAT, ERROR. */
    BACK
}
