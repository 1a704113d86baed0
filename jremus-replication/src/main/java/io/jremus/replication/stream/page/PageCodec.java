package io.jremus.replication.stream.page;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Constants shared by the encoder and the decoder. */
final class PageCodec {
    /** Version 1 of the stream has 4096-octet pages only. */
    static final int PAGE_SIZE = 4096;
    static final int WORDS = PAGE_SIZE / Long.BYTES;
    static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private PageCodec() {
    }
}
