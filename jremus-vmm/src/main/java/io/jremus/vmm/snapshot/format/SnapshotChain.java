package io.jremus.vmm.snapshot.format;

import io.jremus.vmm.boot.GuestRamLayout;
import io.jremus.vmm.boot.RamRegion;
import io.jremus.vmm.config.VmConfig;
import io.jremus.vmm.memory.GuestMemory;
import io.jremus.vmm.memory.MemoryRegion;
import io.jremus.vmm.snapshot.MemoryImage;
import io.jremus.vmm.snapshot.SnapshotException;
import io.jremus.vmm.snapshot.SnapshotProgress;
import io.jremus.vmm.snapshot.VmSnapshotState;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A FULL snapshot and the DIFFs that follow it, opened and validated as a whole before any VM
 * exists: every file's state section is parsed, and the links checked (each diff names its
 * parent's id and has the next sequence number; all share memory layout, vCPU count and config
 * digest). The state restored is the newest file's; memory is the base's pages overlaid with
 * each diff's in order. A single FULL snapshot is a chain of one.
 */
public final class SnapshotChain implements MemoryImage, AutoCloseable {
    private final List<SnapshotFile> files;
    private SnapshotProgress progress = SnapshotProgress.NONE;

    private SnapshotChain(List<SnapshotFile> files) {
        this.files = List.copyOf(files);
    }

    /**
     * Opens {@code latest} and, if it is a DIFF, its ancestors: files in the same directory
     * whose HEADER id matches each parent id (names do not matter; files that are not
     * snapshots are ignored).
     */
    public static SnapshotChain open(Path latest) throws SnapshotException {
        List<Path> paths = new ArrayList<>();
        paths.add(latest);
        SnapshotHeader h = SnapshotFile.readHeader(latest);
        if (h.kind() == SnapshotHeader.Kind.DIFF) {
            Map<String, Path> byId = new HashMap<>();
            Path dir = latest.toAbsolutePath().getParent();
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : s.filter(Files::isRegularFile).toList()) {
                    if (p.getFileName().toString().endsWith(".tmp")) continue;
                    try {
                        byId.put(SnapshotFile.readHeader(p).idHex(), p);
                    } catch (SnapshotException notASnapshot) {
                        // ignore other files in the directory
                    }
                }
            } catch (IOException e) {
                throw new SnapshotException(SnapshotException.Kind.IO, "listing " + dir + ": " + e.getMessage(), e);
            }
            while (h.kind() == SnapshotHeader.Kind.DIFF) {
                String parent = java.util.HexFormat.of().formatHex(h.parentId());
                Path p = byId.get(parent);
                if (p == null) {
                    throw new SnapshotException(SnapshotException.Kind.MISMATCH, paths.getFirst().getFileName() + ": its parent snapshot (id "
                            + parent + ", sequence " + (h.sequence() - 1) + ") is not in " + dir);
                }
                paths.addFirst(p);
                h = SnapshotFile.readHeader(p);
            }
        }
        return of(paths);
    }

    /** Opens an explicit chain: a FULL snapshot first, then its diffs in order. */
    public static SnapshotChain of(List<Path> paths) throws SnapshotException {
        List<SnapshotFile> files = new ArrayList<>();
        try {
            for (Path p : paths) {
                SnapshotFile f = SnapshotFile.open(p);
                files.add(f);
                SnapshotHeader h = f.header();
                if (files.size() == 1) {
                    if (h.kind() != SnapshotHeader.Kind.FULL) {
                        throw new SnapshotException(SnapshotException.Kind.MISMATCH, p.getFileName() + " is a DIFF (#" + h.sequence() + "): a chain starts with a FULL snapshot");
                    }
                    continue;
                }
                SnapshotHeader prev = files.get(files.size() - 2).header();
                String name = p.getFileName().toString();
                if (h.kind() != SnapshotHeader.Kind.DIFF || !h.isChildOf(prev) || h.sequence() != prev.sequence() + 1) {
                    throw new SnapshotException(SnapshotException.Kind.MISMATCH, name + " (" + h.kind() + " #" + h.sequence()
                            + ") does not follow " + files.get(files.size() - 2).path().getFileName() + " (#" + prev.sequence() + ", id " + prev.idHex() + ")");
                }
                if (h.memoryBytes() != prev.memoryBytes() || !h.regions().equals(prev.regions()) || h.vcpus() != prev.vcpus()
                        || !Arrays.equals(h.configDigest(), prev.configDigest())) {
                    throw new SnapshotException(SnapshotException.Kind.MISMATCH, name + ": memory layout, vCPUs or config differ from its parent's");
                }
            }
            return new SnapshotChain(files);
        } catch (SnapshotException | RuntimeException e) {
            for (SnapshotFile f : files) f.close();
            throw e;
        }
    }

    public SnapshotChain withProgress(SnapshotProgress p) {
        this.progress = p;
        return this;
    }

    public List<SnapshotFile> files() {
        return files;
    }

    /** The newest file's header. */
    public SnapshotHeader header() {
        return files.getLast().header();
    }

    /** The state to restore: the newest file's. */
    public VmSnapshotState state() {
        return files.getLast().state();
    }

    /** The config the snapshot was taken with (TOML). */
    public String configToml() {
        return files.getLast().configToml();
    }

    @Override
    public void checkFits(VmConfig config) throws SnapshotException {
        SnapshotHeader h = header();
        String name = files.getLast().path().getFileName().toString();
        if (h.memoryBytes() != config.memoryBytes()) {
            throw new SnapshotException(SnapshotException.Kind.MISMATCH, name + ": the snapshot holds " + (h.memoryBytes() >> 20)
                    + " MiB of guest memory, the config asks for " + config.memoryMib() + " MiB");
        }
        List<SnapshotHeader.Region> want = new ArrayList<>();
        for (RamRegion r : GuestRamLayout.regionsFor(config.memoryBytes())) want.add(new SnapshotHeader.Region(r.guestAddress(), r.size()));
        if (!want.equals(h.regions())) {
            throw new SnapshotException(SnapshotException.Kind.MISMATCH, name + ": memory layout " + h.regions() + " differs from this VMM's " + want);
        }
        if (h.vcpus() != config.vcpus()) {
            throw new SnapshotException(SnapshotException.Kind.MISMATCH, name + ": the snapshot has " + h.vcpus() + " vCPUs, the config " + config.vcpus());
        }
        if (!Arrays.equals(h.configDigest(), ConfigToml.digest(config))) {
            throw new SnapshotException(SnapshotException.Kind.MISMATCH, name + ": the config's machine (" + ConfigToml.shape(config)
                    + ") is not the one the snapshot was taken of (disks, NICs or MACs differ)");
        }
    }

    @Override
    public void loadInto(GuestMemory memory) throws SnapshotException {
        List<SnapshotHeader.Region> have = new ArrayList<>();
        for (MemoryRegion r : memory.regions()) have.add(new SnapshotHeader.Region(r.guestAddress(), r.size()));
        if (!have.equals(header().regions())) {
            throw new SnapshotException(SnapshotException.Kind.MISMATCH, "memory layout " + header().regions() + " differs from the VM's " + have);
        }
        long total = 0;
        for (SnapshotFile f : files) total += f.memoryBytes();
        long done = 0;
        for (int i = 0; i < files.size(); i++) {
            SnapshotFile f = files.get(i);
            f.loadMemory(memory, i == 0, progress, done, total);
            done += f.memoryBytes();
        }
    }

    @Override
    public void close() {
        for (SnapshotFile f : files) f.close();
    }
}
