package io.jremus.cli.image;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Builds, or takes from the cache, the Linux guest image: Debian's current {@code linux-image-amd64}
 * kernel (as {@code vmlinuz}, the bzImage, and {@code vmlinux}, its ELF for the PVH entry) and an
 * initramfs of busybox-static and the virtio and ext4 modules ({@link InitramfsBuilder}).
 *
 * <p>Assumes a Debian amd64 host with apt and dpkg-deb (CI is a fresh Debian 12). The versions
 * apt would install name the cache entry ({@link ImageCache}); a complete entry is reused with
 * no download. If apt has no package lists yet it runs {@code apt-get update} (root needed).
 * Steps that take a while print a numbered progress line.
 */
public final class LinuxImageBuilder {
    static final String BUSYBOX_PACKAGE = "busybox-static";
    /** Loaded in this order, each after its dependencies; see shared/notes/guest-kernel.md. */
    static final List<String> WANTED_MODULES =
            List.of("virtio_mmio", "virtio_pci", "virtio_net", "virtio_blk", "crc32c_generic", "crc32c-intel", "ext4");
    /** crc32c-intel needs SSE4.2 and may be absent; crc32c_generic is gone from newer kernels' module lists. */
    static final Set<String> OPTIONAL_MODULES = Set.of("crc32c-intel", "crc32c_generic");

    static final String VMLINUZ = "vmlinuz";
    static final String VMLINUX = "vmlinux";
    static final String INITRAMFS = "initramfs.cpio.gz";
    private static final int STEPS = 6;

    /** A built image. Paths are absolute, inside the cache entry {@code directory}. */
    public record LinuxImage(Path directory, Path vmlinuz, Path vmlinux, Path initramfs, ImageManifest manifest,
                             boolean fromCache) {
        static LinuxImage in(Path dir, ImageManifest m, boolean fromCache) {
            return new LinuxImage(dir, dir.resolve(VMLINUZ), dir.resolve(VMLINUX), dir.resolve(INITRAMFS), m, fromCache);
        }
    }

    private record Versions(String kernelPackage, String kernelVersion, String busyboxVersion) {
    }

    private final ImageCache cache;
    private final CommandRunner runner;
    private final Progress progress;

    public LinuxImageBuilder(Path cacheRoot, CommandRunner runner, PrintStream console) {
        this.cache = new ImageCache(cacheRoot);
        this.runner = runner;
        this.progress = new Progress(console, STEPS);
    }

    /** A builder with the XDG cache directory and real commands, printing to {@code console}. */
    public static LinuxImageBuilder standard(PrintStream console) {
        return new LinuxImageBuilder(defaultCacheRoot(), CommandRunner.processes(), console);
    }

    /** {@code ${XDG_CACHE_HOME:-$HOME/.cache}/jremus/images}. */
    public static Path defaultCacheRoot() {
        return ImageCache.defaultRoot(System.getenv());
    }

    /**
     * Returns the image for the current package versions, building it unless a complete cache
     * entry exists (or always, with {@code force}).
     */
    public LinuxImage build(boolean force) throws ImageBuildException {
        Instant start = Instant.now();
        DebianPackages apt = new DebianPackages(runner, Path.of("/"));
        progress.step("resolving package versions (apt-cache)");
        Optional<Versions> resolved = resolve(apt);
        boolean updated = false;
        if (resolved.isEmpty()) {
            Optional<Path> newest = force ? Optional.empty() : cache.newestComplete();
            if (newest.isPresent()) {
                progress.info("apt does not know " + DebianPackages.KERNEL_METAPACKAGE + "; using the newest cached image");
                return reuse(newest.get());
            }
            progress.info("apt knows no " + DebianPackages.KERNEL_METAPACKAGE + " yet: running apt-get update");
            apt.update();
            updated = true;
            resolved = resolve(apt);
        }
        Versions v = resolved.orElseThrow(() -> new ImageBuildException("apt knows no " + DebianPackages.KERNEL_METAPACKAGE
                + " or " + BUSYBOX_PACKAGE + " even after apt-get update (is Debian's main component in the apt sources?)"));
        progress.info("    " + v.kernelPackage() + " " + v.kernelVersion() + ", " + BUSYBOX_PACKAGE + " " + v.busyboxVersion());

        String key = ImageCache.key(v.kernelVersion(), v.busyboxVersion());
        Path entry = cache.entry(key);
        try (ImageCache.Lock lock = cache.lock()) {
            if (!force && cache.complete(entry).isPresent()) {
                return reuse(entry);
            }
            cache.removeLeftovers();
            Path staging = cache.newStaging(key);
            try {
                ImageManifest m = buildInto(staging, apt, v, updated);
                cache.install(staging, entry);
                double secs = Duration.between(start, Instant.now()).toMillis() / 1000.0;
                progress.info(String.format(Locale.ROOT, "linux image built in %.1f s: %s", secs, entry));
                return LinuxImage.in(entry, m, false);
            } finally {
                ImageCache.deleteTree(staging);
            }
        } catch (IOException e) {
            throw new ImageBuildException("cannot write the image cache under " + cache.root() + ": " + e.getMessage(), e);
        }
    }

    private LinuxImage reuse(Path entry) throws ImageBuildException {
        ImageManifest m = cache.complete(entry).orElseThrow(() -> new ImageBuildException("cache entry " + entry + " vanished"));
        progress.info("linux image cached: " + entry + " (" + m.kernelPackage() + " " + m.kernelVersion() + ")");
        return LinuxImage.in(entry, m, true);
    }

    private static Optional<Versions> resolve(DebianPackages apt) throws ImageBuildException {
        Optional<String> kernel = apt.kernelPackage();
        if (kernel.isEmpty()) {
            return Optional.empty();
        }
        Map<String, String> versions = apt.candidateVersions(List.of(kernel.get(), BUSYBOX_PACKAGE));
        String kv = versions.get(kernel.get());
        String bv = versions.get(BUSYBOX_PACKAGE);
        if (kv == null || bv == null) {
            return Optional.empty();
        }
        return Optional.of(new Versions(kernel.get(), kv, bv));
    }

    private ImageManifest buildInto(Path out, DebianPackages apt, Versions v, boolean updated)
            throws ImageBuildException, IOException {
        Path work = Files.createDirectory(out.resolve(".work"));
        Path debs = Files.createDirectory(work.resolve("debs"));
        Path root = Files.createDirectory(work.resolve("root"));

        long kSize = apt.downloadSize(v.kernelPackage(), v.kernelVersion());
        long bSize = apt.downloadSize(BUSYBOX_PACKAGE, v.busyboxVersion());
        progress.step("downloading " + v.kernelPackage() + " " + v.kernelVersion() + sizeNote(kSize)
                + " and " + BUSYBOX_PACKAGE + " " + v.busyboxVersion() + sizeNote(bSize) + " (apt-get download)");
        Path kernelDeb;
        try {
            kernelDeb = apt.download(v.kernelPackage(), v.kernelVersion(), debs);
        } catch (ImageBuildException e) {
            if (updated) {
                throw e;
            }
            // Stale package lists name files the mirror has dropped: refresh once and retry.
            progress.info("download failed (" + e.getMessage() + "); running apt-get update and retrying");
            apt.update();
            kernelDeb = apt.download(v.kernelPackage(), v.kernelVersion(), debs);
        }
        Path busyboxDeb = apt.download(BUSYBOX_PACKAGE, v.busyboxVersion(), debs);

        progress.step("unpacking " + kernelDeb.getFileName() + " and " + busyboxDeb.getFileName() + " (dpkg-deb -x)");
        apt.unpack(kernelDeb, root);
        apt.unpack(busyboxDeb, root);
        Path moduleDir = onlyKernelRelease(root);
        String release = moduleDir.getFileName().toString();
        Path vmlinuz = firstExisting(root, "boot/vmlinuz-" + release)
                .orElseThrow(() -> new ImageBuildException(v.kernelPackage() + " has no boot/vmlinuz-" + release));
        Path busybox = firstExisting(root, "bin/busybox", "usr/bin/busybox")
                .orElseThrow(() -> new ImageBuildException(BUSYBOX_PACKAGE + " has no bin/busybox"));

        byte[] bzImage = Files.readAllBytes(vmlinuz);
        VmlinuxExtractor.Payload payload = VmlinuxExtractor.locate(bzImage);
        progress.step("extracting vmlinux from vmlinuz (" + Progress.megabytes(bzImage.length) + ", " + payload.compression() + ")");
        Files.write(out.resolve(VMLINUZ), bzImage);
        VmlinuxExtractor.Result vmlinux = VmlinuxExtractor.extract(bzImage, payload, out.resolve(VMLINUX));
        progress.info("    vmlinux " + Progress.megabytes(vmlinux.vmlinuxBytes())
                + vmlinux.pvhEntry().map(e -> ", PVH entry 0x" + Long.toHexString(e)).orElse(", no PVH note"));

        List<KernelModules.Module> modules = KernelModules.scan(moduleDir).loadOrder(WANTED_MODULES, OPTIONAL_MODULES);
        progress.step("writing initramfs (busybox, " + modules.size() + " modules)");
        long initramfsSize = InitramfsBuilder.write(out.resolve(INITRAMFS), Files.readAllBytes(busybox), modules);
        progress.info("    " + INITRAMFS + " " + Progress.megabytes(initramfsSize) + ": "
                + String.join(" ", modules.stream().map(KernelModules.Module::name).toList()));

        progress.step("writing manifest and installing into the cache");
        ImageCache.deleteTree(work);
        Map<String, ImageManifest.FileEntry> files = new TreeMap<>();
        for (String f : List.of(VMLINUZ, VMLINUX, INITRAMFS)) {
            files.put(f, ImageManifest.describe(out.resolve(f)));
        }
        ImageManifest m = new ImageManifest(ImageManifest.RECIPE, v.kernelPackage(), v.kernelVersion(), release,
                BUSYBOX_PACKAGE, v.busyboxVersion(), vmlinux.pvhEntry().map(e -> "0x" + Long.toHexString(e)).orElse(null),
                modules.stream().map(KernelModules.Module::fileName).toList(), Instant.now().toString(), files);
        m.write(out);
        return m;
    }

    /** {@code lib/modules/<release>} (or under usr/ on merged-/usr packages); there must be exactly one. */
    private static Path onlyKernelRelease(Path root) throws ImageBuildException, IOException {
        for (String base : List.of("lib/modules", "usr/lib/modules")) {
            Path dir = root.resolve(base);
            if (Files.isDirectory(dir)) {
                try (Stream<Path> s = Files.list(dir)) {
                    List<Path> releases = s.filter(Files::isDirectory).toList();
                    if (releases.size() != 1) {
                        throw new ImageBuildException("expected one kernel release under " + base + ", found " + releases.size());
                    }
                    return releases.getFirst();
                }
            }
        }
        throw new ImageBuildException("the kernel package has no lib/modules directory");
    }

    private static Optional<Path> firstExisting(Path root, String... candidates) {
        return Stream.of(candidates).map(root::resolve).filter(Files::isRegularFile).findFirst();
    }

    private static String sizeNote(long bytes) {
        return bytes < 0 ? "" : " (" + Progress.megabytes(bytes) + ")";
    }
}
