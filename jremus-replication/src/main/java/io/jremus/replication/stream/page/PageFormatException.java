package io.jremus.replication.stream.page;

/**
 * An encoded page that does not decode: a bad XOR_RLE run, LZ4 output that is not exactly one
 * page, a payload length the encoding does not allow. The message gives the values; the stream
 * layer adds which record and page it was.
 */
public final class PageFormatException extends Exception {
    public PageFormatException(String message) {
        super(message);
    }
}
