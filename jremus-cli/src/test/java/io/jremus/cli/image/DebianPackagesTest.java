package io.jremus.cli.image;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class DebianPackagesTest {
    private static DebianPackages answering(String stdout) {
        return new DebianPackages((cmd, dir) -> new CommandRunner.Result(0, stdout, ""), Path.of("/"));
    }

    @Test
    void shouldReadCandidatesPerPackageFromOnePolicyCall() throws Exception {
        String policy = """
                linux-image-6.1.0-56-amd64:
                  Installed: (none)
                  Candidate: 6.1.192-2
                  Version table:
                     6.1.192-2 500
                        500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
                busybox-static:
                  Installed: (none)
                  Candidate: (none)
                  Version table:
                """;
        assertThat(answering(policy).candidateVersions(List.of("linux-image-6.1.0-56-amd64", "busybox-static")))
                .isEqualTo(Map.of("linux-image-6.1.0-56-amd64", "6.1.192-2"));
    }

    @Test
    void shouldFindTheVersionedKernelBehindTheMetapackage() throws Exception {
        String depends = "linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n  Recommends: apparmor\n";
        assertThat(answering(depends).kernelPackage()).contains("linux-image-6.1.0-56-amd64");
    }

    @Test
    void shouldReadTheDownloadSize() throws Exception {
        assertThat(answering("Package: busybox-static\nVersion: 1:1.35.0-4+deb12u1+b1\nSize: 928188\n")
                .downloadSize("busybox-static", "1:1.35.0-4+deb12u1+b1")).isEqualTo(928188);
    }
}
