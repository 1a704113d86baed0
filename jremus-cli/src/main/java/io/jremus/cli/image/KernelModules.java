package io.jremus.cli.image;

import org.tukaani.xz.XZInputStream;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Picks kernel modules out of an unpacked linux-image package and puts them in an order that
 * busybox {@code insmod} can load: every module after the modules it depends on. Debian's
 * package has no {@code modules.dep} (depmod makes it at install time), so the dependencies are
 * read from each module's own {@code .modinfo} section ({@code depends=a,b}), which is what depmod
 * reads too. Modules listed in {@code modules.builtin} are part of the kernel and are skipped.
 *
 * <p>Busybox insmod takes plain ELF files, so {@code .ko.xz} and {@code .ko.gz} modules (newer
 * Debian kernels compress them) are decompressed here; {@code .ko.zst} is reported as unsupported.
 */
final class KernelModules {

    /** One module ready for the initramfs: {@code fileName} is the plain {@code .ko} name. */
    record Module(String name, String fileName, byte[] elf) {
    }

    private final Map<String, Path> files = new HashMap<>();
    private final Set<String> builtin = new HashSet<>();

    private KernelModules() {
    }

    /** Indexes the modules under {@code moduleDir}, i.e. {@code lib/modules/<kernel release>}. */
    static KernelModules scan(Path moduleDir) throws ImageBuildException {
        KernelModules m = new KernelModules();
        try (Stream<Path> walk = Files.walk(moduleDir.resolve("kernel"))) {
            walk.filter(Files::isRegularFile).forEach(p -> {
                String base = p.getFileName().toString();
                int ko = base.indexOf(".ko");
                if (ko > 0) {
                    m.files.put(canonical(base.substring(0, ko)), p);
                }
            });
            Path builtinList = moduleDir.resolve("modules.builtin");
            if (Files.exists(builtinList)) {
                for (String line : Files.readAllLines(builtinList)) {
                    String base = Path.of(line.strip()).getFileName().toString();
                    m.builtin.add(canonical(base.replaceFirst("\\.ko.*$", "")));
                }
            }
        } catch (IOException | UncheckedIOException e) {
            throw new ImageBuildException("cannot read the kernel modules in " + moduleDir + ": " + e.getMessage(), e);
        }
        if (m.files.isEmpty()) {
            throw new ImageBuildException("no kernel modules found under " + moduleDir.resolve("kernel"));
        }
        return m;
    }

    /**
     * The modules to load, dependencies first, for the {@code wanted} modules in the given order.
     * A wanted module that is built in is skipped; one in {@code optional} that does not exist is
     * skipped too (e.g. crc32c-intel on a kernel without it). Anything else missing is an error.
     */
    List<Module> loadOrder(List<String> wanted, Set<String> optional) throws ImageBuildException {
        Map<String, Module> ordered = new LinkedHashMap<>();
        for (String name : wanted) {
            String c = canonical(name);
            if (!files.containsKey(c) && (builtin.contains(c) || optional.contains(name))) {
                continue;
            }
            visit(c, ordered, new HashSet<>());
        }
        return new ArrayList<>(ordered.values());
    }

    private void visit(String name, Map<String, Module> done, Set<String> inProgress) throws ImageBuildException {
        if (done.containsKey(name) || builtin.contains(name) && !files.containsKey(name)) {
            return;
        }
        if (!inProgress.add(name)) {
            throw new ImageBuildException("kernel module dependency cycle through " + name);
        }
        Path file = files.get(name);
        if (file == null) {
            throw new ImageBuildException("kernel module " + name + " is neither in the package nor built in");
        }
        byte[] elf = readModule(file);
        for (String dep : depends(name, elf)) {
            visit(canonical(dep), done, inProgress);
        }
        String base = file.getFileName().toString();
        done.put(name, new Module(name, base.substring(0, base.indexOf(".ko")) + ".ko", elf));
    }

    /** The {@code depends=} list of a module's {@code .modinfo}: NUL-separated {@code key=value} strings. */
    static List<String> depends(String name, byte[] elf) throws ImageBuildException {
        ByteBuffer modinfo;
        try {
            modinfo = Elf64.parse(ByteBuffer.wrap(elf)).section(".modinfo")
                    .orElseThrow(() -> new IllegalArgumentException("no .modinfo section"));
        } catch (IllegalArgumentException e) {
            throw new ImageBuildException("kernel module " + name + " is not a valid module: " + e.getMessage(), e);
        }
        byte[] bytes = new byte[modinfo.remaining()];
        modinfo.get(bytes);
        for (String entry : new String(bytes, StandardCharsets.UTF_8).split("\0")) {
            if (entry.startsWith("depends=")) {
                String list = entry.substring("depends=".length());
                return list.isEmpty() ? List.of() : List.of(list.split(","));
            }
        }
        return List.of();
    }

    private static byte[] readModule(Path file) throws ImageBuildException {
        String base = file.getFileName().toString();
        try (InputStream raw = Files.newInputStream(file)) {
            if (base.endsWith(".ko")) {
                return raw.readAllBytes();
            } else if (base.endsWith(".ko.xz")) {
                return new XZInputStream(raw).readAllBytes();
            } else if (base.endsWith(".ko.gz")) {
                return new GZIPInputStream(raw).readAllBytes();
            }
            throw new ImageBuildException("kernel module " + file + ": compression not supported"
                    + " (only .ko, .ko.xz and .ko.gz)");
        } catch (IOException e) {
            throw new ImageBuildException("cannot read kernel module " + file + ": " + e.getMessage(), e);
        }
    }

    /** The kernel treats '-' and '_' in module names alike ("crc32c-intel" is module crc32c_intel). */
    static String canonical(String name) {
        return name.replace('-', '_');
    }
}
