package io.jremus.replication.stream;

/**
 * What a receiver accepts and a sender stays within. Both ends of a session use the same limits
 * (they run the same release); a receiver refuses a record above its limit before reading its body.
 *
 * @param maxRecordBody     the largest record body in octets
 * @param maxPagesPerRecord the largest PAGE_DATA batch (the format allows 512)
 * @param maxDiskWrite      the largest DISK_WRITE data in octets (a multiple of 512); a sender
 *                          splits larger guest writes
 */
public record StreamLimits(int maxRecordBody, int maxPagesPerRecord, int maxDiskWrite) {
    /** The format's bound on PAGE_DATA.count (§5.3). */
    public static final int FORMAT_MAX_PAGES = 512;
    /** Octets of one PAGE_DATA entry header. */
    public static final int PAGE_ENTRY_HEADER = 16;

    public StreamLimits {
        if (maxPagesPerRecord < 1 || maxPagesPerRecord > FORMAT_MAX_PAGES) {
            throw new IllegalArgumentException("maxPagesPerRecord " + maxPagesPerRecord + " not in 1.." + FORMAT_MAX_PAGES);
        }
        if (maxDiskWrite < 512 || maxDiskWrite % 512 != 0) {
            throw new IllegalArgumentException("maxDiskWrite " + maxDiskWrite + " is not a positive multiple of 512");
        }
        if (maxRecordBody < 16 + maxDiskWrite || maxRecordBody < 8 + PAGE_ENTRY_HEADER + 4096) {
            throw new IllegalArgumentException("maxRecordBody " + maxRecordBody + " cannot hold one page or one disk write of " + maxDiskWrite);
        }
        if (maxRecordBody > (1 << 30)) {
            throw new IllegalArgumentException("maxRecordBody " + maxRecordBody + " above 1 GiB");
        }
    }

    /** 4 MiB records (a full batch of 512 raw pages is 2 MiB), 512 pages, 1 MiB disk writes. */
    public static StreamLimits defaults() {
        return new StreamLimits(4 << 20, FORMAT_MAX_PAGES, 1 << 20);
    }

    /** The largest PAGE_DATA body these limits produce. */
    int maxPageDataBody() {
        return (int) Math.min(maxRecordBody, 8L + (long) maxPagesPerRecord * (PAGE_ENTRY_HEADER + 4096));
    }
}
