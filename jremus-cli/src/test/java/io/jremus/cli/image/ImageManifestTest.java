package io.jremus.cli.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImageManifestTest {
    @TempDir
    Path dir;

    @Test
    void shouldRoundTripThroughJson() throws IOException {
        Path f = Files.writeString(dir.resolve("vmlinux"), "abc");
        ImageManifest m = new ImageManifest(ImageManifest.RECIPE, "linux-image-6.1.0-56-amd64", "6.1.192-2",
                "6.1.0-56-amd64", "busybox-static", "1:1.35.0-4+deb12u1+b1", "0x1000850", List.of("virtio.ko", "ext4.ko"),
                "2026-01-01T00:00:00Z", Map.of("vmlinux", ImageManifest.describe(f)));

        m.write(dir);

        assertThat(ImageManifest.read(dir)).isEqualTo(m);
        assertThat(m.files().get("vmlinux")).isEqualTo(new ImageManifest.FileEntry(3,
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        assertThat(Files.readString(dir.resolve("manifest.json"))).contains("\"kernelVersion\" : \"6.1.192-2\"");
    }

    @Test
    void shouldRejectAMalformedManifest() throws IOException {
        Files.writeString(dir.resolve("manifest.json"), "{ not json");
        assertThatThrownBy(() -> ImageManifest.read(dir)).isInstanceOf(IOException.class).hasMessageStartingWith("malformed manifest.json");
    }
}
