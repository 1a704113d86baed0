package io.jremus.cli.image;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CpioNewcWriterTest {

    /** One parsed newc entry. */
    record Entry(String name, int mode, int nlink, int rdevMajor, int rdevMinor, long mtime, byte[] data) {
    }

    /** An independent newc reader: checks the magic, the field widths and the 4-byte alignment. */
    static List<Entry> parse(byte[] archive) {
        List<Entry> entries = new ArrayList<>();
        int p = 0;
        while (true) {
            assertThat(p % 4).as("header alignment").isZero();
            String header = new String(archive, p, 110, StandardCharsets.US_ASCII);
            assertThat(header).startsWith("070701");
            long[] f = new long[13];
            for (int i = 0; i < 13; i++) {
                f[i] = Long.parseLong(header.substring(6 + 8 * i, 14 + 8 * i), 16);
            }
            int nameSize = (int) f[11];
            String name = new String(archive, p + 110, nameSize - 1, StandardCharsets.UTF_8);
            assertThat(archive[p + 110 + nameSize - 1]).as("name NUL").isZero();
            int dataAt = (p + 110 + nameSize + 3) & ~3;
            byte[] data = Arrays.copyOfRange(archive, dataAt, dataAt + (int) f[6]);
            p = (dataAt + data.length + 3) & ~3;
            if (name.equals("TRAILER!!!")) {
                assertThat(p).as("archive ends after the trailer").isEqualTo(archive.length);
                return entries;
            }
            entries.add(new Entry(name, (int) f[1], (int) f[4], (int) f[9], (int) f[10], f[5], data));
        }
    }

    private static byte[] sample() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CpioNewcWriter w = new CpioNewcWriter(out);
        w.directory("bin", 0755);
        w.directory("/dev", 0755);
        w.file("bin/busybox", 0755, "#!fake busybox, 31 bytes long\n".getBytes(StandardCharsets.US_ASCII));
        w.symlink("bin/sh", "busybox");
        w.charDevice("dev/console", 0600, 5, 1);
        w.file("init", 0755, "#!/bin/sh\necho hi\n".getBytes(StandardCharsets.US_ASCII));
        w.finish();
        return out.toByteArray();
    }

    @Test
    void shouldWriteEntriesThatParseBackWithTypesAndAlignment() throws IOException {
        List<Entry> entries = parse(sample());

        assertThat(entries).extracting(Entry::name).containsExactly("bin", "dev", "bin/busybox", "bin/sh", "dev/console", "init");
        assertThat(entries.get(0).mode()).isEqualTo(0040755);
        assertThat(entries.get(0).nlink()).isEqualTo(2);
        assertThat(entries.get(2).mode()).isEqualTo(0100755);
        assertThat(new String(entries.get(2).data(), StandardCharsets.US_ASCII)).isEqualTo("#!fake busybox, 31 bytes long\n");
        assertThat(entries.get(3).mode()).isEqualTo(0120777);
        assertThat(new String(entries.get(3).data(), StandardCharsets.US_ASCII)).isEqualTo("busybox");
        assertThat(entries.get(4).mode()).isEqualTo(0020600);
        assertThat(entries.get(4).rdevMajor()).isEqualTo(5);
        assertThat(entries.get(4).rdevMinor()).isEqualTo(1);
        assertThat(entries).allSatisfy(e -> assertThat(e.mtime()).isZero());
    }

    @Test
    void shouldBeReproducible() throws IOException {
        assertThat(sample()).isEqualTo(sample());
    }

    @Test
    void shouldRefuseEntriesBeforeTheirDirectoryAndDuplicates() {
        CpioNewcWriter w = new CpioNewcWriter(new ByteArrayOutputStream());
        assertThatThrownBy(() -> w.file("lib/modules/x.ko", 0644, new byte[1]))
                .hasMessage("cpio entry 'lib/modules/x.ko' comes before its directory 'lib/modules'");
        assertThatThrownBy(() -> {
            w.file("init", 0755, new byte[0]);
            w.file("/init", 0755, new byte[0]);
        }).hasMessage("duplicate cpio entry 'init'");
    }

    @Test
    void shouldBeListedByTheCpioTool(@TempDir Path dir) throws Exception {
        boolean hasCpio = Arrays.stream(System.getenv().getOrDefault("PATH", "").split(":"))
                .anyMatch(d -> Files.isExecutable(Path.of(d, "cpio")));
        Assumptions.assumeTrue(hasCpio, "cpio is not on PATH: skipping the cross-check with GNU cpio");
        Path archive = Files.write(dir.resolve("a.cpio"), sample());

        Process p = new ProcessBuilder("cpio", "-it", "--quiet").redirectInput(archive.toFile()).start();
        String listing = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();

        assertThat(p.exitValue()).isZero();
        assertThat(listing.lines()).containsExactly("bin", "dev", "bin/busybox", "bin/sh", "dev/console", "init");
    }
}
