package io.jremus.cli.image;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The apt and dpkg commands the Linux image build uses, with their output parsed. Assumes a
 * Debian (or derived) amd64 host; downloading needs no root, {@code apt-get update} does.
 * Every failure names the command and the last line it printed to stderr.
 */
final class DebianPackages {
    static final String KERNEL_METAPACKAGE = "linux-image-amd64";

    private static final Pattern KERNEL_DEPENDS = Pattern.compile("(?m)^\\s*Depends:\\s*(linux-image-[0-9]\\S*)");
    private static final Pattern CANDIDATE = Pattern.compile("(?m)^\\s*Candidate:\\s*(\\S+)");
    private static final Pattern SIZE = Pattern.compile("(?m)^Size:\\s*(\\d+)");

    private final CommandRunner runner;
    private final Path workDir;

    DebianPackages(CommandRunner runner, Path workDir) {
        this.runner = runner;
        this.workDir = workDir;
    }

    /** The versioned kernel package the metapackage points at, e.g. linux-image-6.1.0-56-amd64; empty if apt does not know it. */
    Optional<String> kernelPackage() throws ImageBuildException {
        CommandRunner.Result r = runner.run(List.of("apt-cache", "depends", KERNEL_METAPACKAGE), workDir);
        if (r.exitCode() != 0) {
            return Optional.empty();
        }
        Matcher m = KERNEL_DEPENDS.matcher(r.stdout());
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /**
     * The versions apt would install, by package; a package without a candidate (unknown, or no
     * package lists yet) is absent. One apt-cache call for all: each costs about a second.
     */
    Map<String, String> candidateVersions(List<String> pkgs) throws ImageBuildException {
        List<String> cmd = new ArrayList<>(List.of("apt-cache", "policy"));
        cmd.addAll(pkgs);
        CommandRunner.Result r = runner.run(cmd, workDir);
        Map<String, String> versions = new HashMap<>();
        if (r.exitCode() != 0) {
            return versions;
        }
        String current = null;
        for (String line : r.stdout().lines().toList()) {
            if (!line.startsWith(" ") && line.endsWith(":")) {
                current = line.substring(0, line.length() - 1);
            }
            Matcher m = CANDIDATE.matcher(line);
            if (current != null && pkgs.contains(current) && m.find() && !m.group(1).equals("(none)")) {
                versions.put(current, m.group(1));
            }
        }
        return versions;
    }

    /** The .deb's download size in bytes from {@code apt-cache show}, or -1 if apt does not say. */
    long downloadSize(String pkg, String version) throws ImageBuildException {
        CommandRunner.Result r = runner.run(List.of("apt-cache", "show", pkg + "=" + version), workDir);
        Matcher m = SIZE.matcher(r.stdout());
        return r.exitCode() == 0 && m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    void update() throws ImageBuildException {
        runner.runChecked(List.of("apt-get", "update"), workDir);
    }

    /** Downloads exactly {@code pkg=version} into {@code dir} (which should be empty) and returns the .deb. */
    Path download(String pkg, String version, Path dir) throws ImageBuildException {
        runner.runChecked(List.of("apt-get", "download", pkg + "=" + version), dir);
        try (DirectoryStream<Path> debs = Files.newDirectoryStream(dir, pkg + "_*.deb")) {
            for (Path deb : debs) {
                return deb;
            }
        } catch (IOException e) {
            throw new ImageBuildException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        throw new ImageBuildException("'apt-get download " + pkg + "=" + version + "' left no " + pkg + "_*.deb in " + dir);
    }

    /** Extracts the package's files (not its maintainer scripts) under {@code dir}. */
    void unpack(Path deb, Path dir) throws ImageBuildException {
        runner.runChecked(List.of("dpkg-deb", "-x", deb.toString(), dir.toString()), workDir);
    }
}
