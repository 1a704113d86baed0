package io.jremus.vmm.config;

import java.util.Locale;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses and prints memory sizes the way users write them: {@code 256M}, {@code 1G},
 * {@code 512MiB}, {@code 2048} (a bare number means MiB, as in the TOML integer form).
 * Every unit is binary: {@code K}, {@code KB} and {@code KiB} all mean 1024 bytes, as in QEMU's
 * {@code -m}; nobody sizes guest RAM in powers of ten.
 */
public final class MemorySize {
    public static final long KIB = 1024L;
    public static final long MIB = 1024L * KIB;
    public static final long GIB = 1024L * MIB;
    public static final long TIB = 1024L * GIB;

    private static final Pattern SIZE = Pattern.compile("(\\d{1,15})\\s*(?:([KMGT])(?:I?B)?|(B))?");

    private MemorySize() {
    }

    /** The size in bytes, or empty if {@code text} is not a size (including on overflow). */
    public static OptionalLong parseBytes(String text) {
        Matcher m = SIZE.matcher(text.strip().toUpperCase(Locale.ROOT));
        if (!m.matches()) {
            return OptionalLong.empty();
        }
        long n = Long.parseLong(m.group(1));
        long unit = m.group(3) != null ? 1 : switch (m.group(2) == null ? "M" : m.group(2)) {
            case "K" -> KIB;
            case "M" -> MIB;
            case "G" -> GIB;
            default -> TIB;
        };
        try {
            return OptionalLong.of(Math.multiplyExact(n, unit));
        } catch (ArithmeticException overflow) {
            return OptionalLong.empty();
        }
    }

    /** The shortest exact form in the largest binary unit: {@code 16 MiB}, {@code 1 GiB}, {@code 1536 MiB}. */
    public static String format(long bytes) {
        if (bytes != 0 && bytes % TIB == 0) {
            return bytes / TIB + " TiB";
        } else if (bytes != 0 && bytes % GIB == 0) {
            return bytes / GIB + " GiB";
        } else if (bytes != 0 && bytes % MIB == 0) {
            return bytes / MIB + " MiB";
        } else if (bytes != 0 && bytes % KIB == 0) {
            return bytes / KIB + " KiB";
        }
        return bytes + " bytes";
    }
}
