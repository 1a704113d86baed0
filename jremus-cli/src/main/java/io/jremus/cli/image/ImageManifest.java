package io.jremus.cli.image;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * {@code manifest.json} of a cached Linux image: which packages it was built from, what is in
 * it, and the sha256 of every file, so an image can be traced and checked later. It is written
 * last, so its presence is what marks a cache entry as complete.
 *
 * @param recipe         {@link #RECIPE}, bumped whenever the build changes what it produces
 *                       (init script, module list); an entry with another recipe is rebuilt
 * @param kernelPackage  e.g. {@code linux-image-6.1.0-56-amd64}
 * @param kernelVersion  its Debian version, e.g. {@code 6.1.192-2}
 * @param kernelRelease  {@code uname -r} of that kernel, e.g. {@code 6.1.0-56-amd64}
 * @param busyboxPackage {@code busybox-static}
 * @param busyboxVersion e.g. {@code 1:1.35.0-4+deb12u1+b1}
 * @param pvhEntry       the vmlinux PVH entry point in hex, or null if it has none
 * @param modules        module files in /init's load order
 * @param builtAt        ISO-8601 instant
 * @param files          file name to size and sha256
 */
public record ImageManifest(int recipe, String kernelPackage, String kernelVersion, String kernelRelease,
                            String busyboxPackage, String busyboxVersion, String pvhEntry, List<String> modules,
                            String builtAt, Map<String, FileEntry> files) {

    /** Version of what {@link LinuxImageBuilder} produces. */
    public static final int RECIPE = 1;
    static final String FILE_NAME = "manifest.json";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public record FileEntry(long size, String sha256) {
    }

    public ImageManifest {
        Objects.requireNonNull(kernelPackage, "kernelPackage");
        Objects.requireNonNull(busyboxPackage, "busyboxPackage");
        modules = List.copyOf(modules);
        files = new TreeMap<>(files);
    }

    /** Size and sha256 of {@code file}. */
    static FileEntry describe(Path file) throws IOException {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
            long size = in.transferTo(java.io.OutputStream.nullOutputStream());
            return new FileEntry(size, HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }

    void write(Path dir) throws IOException {
        JSON.writeValue(dir.resolve(FILE_NAME).toFile(), this);
    }

    /** Reads {@code dir/manifest.json}; an unreadable or malformed manifest is an IOException. */
    static ImageManifest read(Path dir) throws IOException {
        try {
            return JSON.readValue(dir.resolve(FILE_NAME).toFile(), ImageManifest.class);
        } catch (JsonProcessingException e) {
            throw new IOException("malformed " + FILE_NAME + ": " + e.getOriginalMessage(), e);
        }
    }
}
