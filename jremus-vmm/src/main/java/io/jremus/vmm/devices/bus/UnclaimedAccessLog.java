package io.jremus.vmm.devices.bus;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;

/**
 * Logs an access to an address no device claims, once per address, so a guest that probes
 * (or hammers) an empty port does not flood the log. The set is capped because guest-physical
 * addresses are unbounded and chosen by the guest; past the cap we stop remembering and stop logging.
 */
final class UnclaimedAccessLog {
    private static final int MAX_REMEMBERED = 4096;

    private final Logger log;
    private final String unit;
    private final Set<Long> seen = ConcurrentHashMap.newKeySet();

    UnclaimedAccessLog(Logger log, String unit) {
        this.log = log;
        this.unit = unit;
    }

    void record(String kind, long address, int size) {
        if (!log.isDebugEnabled() || seen.size() >= MAX_REMEMBERED) return;
        if (seen.add(address)) {
            log.debug("unclaimed {} {} at 0x{} (size {}); further accesses there are not logged",
                    unit, kind, Long.toHexString(address), size);
        }
    }
}
