package io.jremus.cluster.witness;

import io.jremus.replication.failover.Role;

import java.io.IOException;
import java.util.Map;

/**
 * Where the witness keeps what must survive its restart: per VM the term, the holder and its
 * role (leases are not kept: a restarted witness treats every held lease as live for one more
 * lease duration). {@link #save} returns only once the state is on stable storage.
 */
public interface TermStore {
    /** One VM's durable state; {@code holder} null and role STANDBY when nobody holds it. */
    record Stored(long term, String holder, Role role) {
    }

    Map<String, Stored> load() throws IOException;

    void save(Map<String, Stored> all) throws IOException;

    /** A store that keeps nothing (tests; a witness that may forget terms on restart). */
    static TermStore inMemory() {
        return new TermStore() {
            @Override
            public Map<String, Stored> load() {
                return Map.of();
            }

            @Override
            public void save(Map<String, Stored> all) {
            }
        };
    }
}
