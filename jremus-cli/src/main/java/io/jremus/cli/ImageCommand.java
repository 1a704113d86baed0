package io.jremus.cli;

import io.jremus.cli.image.ImageBuildCommand;
import picocli.CommandLine.Command;

/** {@code jremus image ...}: guest images. */
@Command(name = "image", mixinStandardHelpOptions = true, description = "Build guest images (the test guest, a Debian Linux kernel + initramfs).",
        subcommands = {ImageBuildCommand.class})
public final class ImageCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
