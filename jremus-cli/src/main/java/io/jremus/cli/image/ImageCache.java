package io.jremus.cli.image;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The on-disk cache of built Linux images: {@code ${XDG_CACHE_HOME:-$HOME/.cache}/jremus/images/},
 * one directory per (kernel package version, busybox version). An entry is complete when its
 * manifest has the current recipe and every file it lists has the listed size. Entries are
 * built in a hidden staging directory beside them and renamed into place, so a build that is
 * killed half way leaves no entry that looks complete.
 */
final class ImageCache {
    private final Path root;

    ImageCache(Path root) {
        this.root = root;
    }

    /** The cache root per the XDG base directory spec, from {@code env} (the process environment). */
    static Path defaultRoot(Map<String, String> env) {
        String xdg = env.get("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg)
                : Path.of(env.getOrDefault("HOME", System.getProperty("user.home")), ".cache");
        return base.resolve("jremus").resolve("images");
    }

    Path root() {
        return root;
    }

    /** {@code linux-<kernel version>-busybox-<busybox version>}, versions made safe for a file name. */
    static String key(String kernelVersion, String busyboxVersion) {
        return "linux-" + sanitize(kernelVersion) + "-busybox-" + sanitize(busyboxVersion);
    }

    /** Debian versions may hold ':' (epochs) and '~'; keep letters, digits, '.', '+', '-', '_'. */
    static String sanitize(String version) {
        return version.replaceAll("[^A-Za-z0-9.+_-]", "_");
    }

    Path entry(String key) {
        return root.resolve(key);
    }

    /** The entry's manifest if the entry is complete, else empty. */
    Optional<ImageManifest> complete(Path entry) {
        try {
            ImageManifest m = ImageManifest.read(entry);
            if (m.recipe() != ImageManifest.RECIPE || m.files().isEmpty()) {
                return Optional.empty();
            }
            for (var f : m.files().entrySet()) {
                Path p = entry.resolve(f.getKey());
                if (!Files.isRegularFile(p) || Files.size(p) != f.getValue().size()) {
                    return Optional.empty();
                }
            }
            return Optional.of(m);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The most recently built complete entry, for when apt cannot tell us the current versions. */
    Optional<Path> newestComplete() {
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(p -> p.getFileName().toString().startsWith("linux-"))
                    .filter(p -> complete(p).isPresent())
                    .max(Comparator.comparing(p -> complete(p).map(ImageManifest::builtAt).orElse("")));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** A fresh, empty staging directory on the same file system as the entries. */
    Path newStaging(String key) throws IOException {
        Files.createDirectories(root);
        return Files.createDirectory(root.resolve(".tmp-" + key + "-" + UUID.randomUUID()));
    }

    /**
     * Renames {@code staging} to {@code entry}. An existing entry (incomplete, or replaced by
     * --force) is first renamed aside and deleted afterwards, because a directory cannot be
     * renamed over a non-empty one.
     */
    void install(Path staging, Path entry) throws IOException {
        Path old = null;
        if (Files.exists(entry)) {
            old = root.resolve(".old-" + entry.getFileName() + "-" + UUID.randomUUID());
            Files.move(entry, old, StandardCopyOption.ATOMIC_MOVE);
        }
        try {
            Files.move(staging, entry, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot rename " + staging + " to " + entry + " atomically", e);
        }
        if (old != null) {
            deleteTree(old);
        }
    }

    /**
     * Holds the cache's lock file until closed, so two builds at once do not both download
     * and then race to install.
     */
    Lock lock() throws IOException {
        Files.createDirectories(root);
        FileChannel ch = FileChannel.open(root.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = ch.lock();
        return () -> {
            lock.release();
            ch.close();
        };
    }

    /**
     * Deletes staging and replaced directories left by builds that were killed before they could
     * clean up (each can be 150 MB). Only safe while holding {@link #lock()}.
     */
    void removeLeftovers() throws IOException {
        try (Stream<Path> s = Files.list(root)) {
            for (Path p : s.toList()) {
                String name = p.getFileName().toString();
                if (Files.isDirectory(p) && (name.startsWith(".tmp-") || name.startsWith(".old-"))) {
                    deleteTree(p);
                }
            }
        }
    }

    /** The held cache lock. */
    interface Lock extends AutoCloseable {
        @Override
        void close() throws IOException;
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            List<Path> all = walk.sorted(Comparator.reverseOrder()).toList();
            for (Path p : all) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }
}
