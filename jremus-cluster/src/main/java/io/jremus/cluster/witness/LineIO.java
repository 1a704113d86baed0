package io.jremus.cluster.witness;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** Bounded ASCII line reading and writing for the witness protocol. */
final class LineIO {
    private LineIO() {
    }

    /** Reads one line without its {@code \n}; null at a clean end of stream; throws if longer than {@code max}. */
    static String readLine(InputStream in, int max) throws IOException {
        byte[] buf = new byte[max];
        int n = 0;
        while (true) {
            int b = in.read();
            if (b < 0) {
                if (n == 0) return null;
                throw new EOFException("connection closed in the middle of a line");
            }
            if (b == '\n') break;
            if (n == max) throw new IOException("line longer than " + max + " bytes");
            buf[n++] = (byte) b;
        }
        if (n > 0 && buf[n - 1] == '\r') n--;
        return new String(buf, 0, n, StandardCharsets.US_ASCII);
    }

    static void writeLine(OutputStream out, String line) throws IOException {
        out.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }
}
