package io.jremus.cluster.witness;

import io.jremus.replication.failover.Role;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The witness's state in one small text file, replaced atomically: written to {@code FILE.tmp},
 * fsync'd, renamed over {@code FILE}, and the directory fsync'd, so after a crash the file holds
 * either the old or the new state, never a torn one. Format (one VM a line, see docs/witness.md):
 * <pre>
 * jremus-witness-state 1
 * vm &lt;vmId&gt; &lt;term&gt; &lt;holder or -&gt; &lt;role code&gt;
 * </pre>
 * A file that does not parse is an error, not an empty state: starting from zero would reissue
 * terms.
 */
public final class FileTermStore implements TermStore {
    static final String HEADER = "jremus-witness-state 1";

    private final Path file;

    public FileTermStore(Path file) {
        this.file = file.toAbsolutePath();
    }

    public Path file() {
        return file;
    }

    @Override
    public Map<String, Stored> load() throws IOException {
        Map<String, Stored> out = new TreeMap<>();
        if (!Files.exists(file)) return out;
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        if (lines.isEmpty() || !lines.getFirst().equals(HEADER)) {
            throw new IOException(file + ": not a witness state file (first line is not '" + HEADER + "')");
        }
        for (int i = 1; i < lines.size(); i++) {
            String l = lines.get(i);
            if (l.isBlank()) continue;
            String[] f = l.split(" ");
            try {
                if (f.length != 5 || !f[0].equals("vm")) throw new IllegalArgumentException("expected 'vm ID TERM HOLDER ROLE'");
                String vm = WitnessProtocol.checkId("vm id", f[1]);
                long term = Long.parseLong(f[2]);
                if (term < 0) throw new IllegalArgumentException("negative term " + term);
                String holder = f[3].equals("-") ? null : WitnessProtocol.checkId("holder", f[3]);
                Role role = Role.ofCode(Integer.parseInt(f[4]));
                if ((holder == null) != (role == Role.STANDBY)) throw new IllegalArgumentException("holder and role disagree");
                if (out.put(vm, new Stored(term, holder, role)) != null) throw new IllegalArgumentException("vm " + vm + " twice");
            } catch (IllegalArgumentException e) {
                throw new IOException(file + " line " + (i + 1) + ": " + e.getMessage() + ": '" + l + "'");
            }
        }
        return out;
    }

    @Override
    public void save(Map<String, Stored> all) throws IOException {
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        new TreeMap<>(all).forEach((vm, s) -> sb.append("vm ").append(vm).append(' ').append(s.term()).append(' ')
                .append(s.holder() == null ? "-" : s.holder()).append(' ').append(s.role().code()).append('\n'));
        Path dir = file.getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) ch.write(b);
            ch.force(true);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot replace " + file + " atomically", e);
        }
        // The rename itself must be durable too: fsync the directory (works on Linux for a read-only channel).
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }
}
