package io.jremus.cli.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jremus.cli.UserException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.function.IntConsumer;

/** Sends one request to a VMM's control socket and returns its final response. */
public final class ControlClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ControlClient() {
    }

    /** @param progress receives {@code {"progress": pct}} lines; may be null */
    public static JsonNode request(Path socket, JsonNode request, IntConsumer progress) {
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(socket));
            c.write(java.nio.ByteBuffer.wrap((JSON.writeValueAsString(request) + "\n").getBytes(StandardCharsets.UTF_8)));
            BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(c), StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null) {
                JsonNode n = JSON.readTree(line);
                if (n.has("progress")) {
                    if (progress != null) progress.accept(n.get("progress").asInt());
                    continue;
                }
                return n;
            }
            throw new UserException("control socket " + socket + " closed without an answer");
        } catch (IOException e) {
            throw new UserException("cannot talk to the VMM at " + socket + ": " + e.getMessage()
                    + " (is `jremus run --control " + socket + "` running?)");
        }
    }
}
