package io.jremus.it;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The ./jremus launcher: picks JDK 25 and says so clearly when it is given another one. */
class LauncherIT {
    private static Process launcher(String javaHome, String... args) throws Exception {
        var cmd = new java.util.ArrayList<String>();
        cmd.add(TestGuest.repoRoot().resolve("jremus").toString());
        cmd.addAll(java.util.List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        if (javaHome != null) pb.environment().put("JAVA_HOME", javaHome);
        else pb.environment().remove("JAVA_HOME");
        return pb.start();
    }

    @Test
    void shouldRefuseAJdkOtherThan25WithAClearMessage() throws Exception {
        Path jdk17 = Path.of("/usr/lib/jvm/java-17-openjdk-amd64");
        assumeTrue(Files.isExecutable(jdk17.resolve("bin/java")), "skipped: no JDK 17 on this host to try the launcher with");
        Process p = launcher(jdk17.toString(), "--version");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(3);
        assertThat(out).contains("is Java 17").contains("needs Java 25");
    }

    @Test
    void shouldFindJdk25ByItselfAndPrintTheVersion() throws Exception {
        Process p = launcher(null, "--version");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("jremus ").contains("Java 25");
    }
}
