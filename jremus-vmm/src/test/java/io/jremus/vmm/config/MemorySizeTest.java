package io.jremus.vmm.config;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class MemorySizeTest {
    @Test
    void shouldTreatEveryUnitAsBinary() {
        assertThat(MemorySize.parseBytes("1K")).hasValue(1024);
        assertThat(MemorySize.parseBytes("1kb")).hasValue(1024);
        assertThat(MemorySize.parseBytes("1KiB")).hasValue(1024);
        assertThat(MemorySize.parseBytes("3M")).hasValue(3L << 20);
        assertThat(MemorySize.parseBytes("1T")).hasValue(1L << 40);
        assertThat(MemorySize.parseBytes("4096B")).hasValue(4096);
        assertThat(MemorySize.parseBytes("7")).hasValue(7L << 20);
    }

    @Test
    void shouldRejectWhatIsNotASize() {
        assertThat(MemorySize.parseBytes("")).isEmpty();
        assertThat(MemorySize.parseBytes("M")).isEmpty();
        assertThat(MemorySize.parseBytes("-1M")).isEmpty();
        assertThat(MemorySize.parseBytes("1.5G")).isEmpty();
        assertThat(MemorySize.parseBytes("1GG")).isEmpty();
        assertThat(MemorySize.parseBytes("999999999999999T")).isEmpty();
    }

    @Test
    void shouldFormatInTheLargestExactUnit() {
        assertThat(MemorySize.format(16L << 20)).isEqualTo("16 MiB");
        assertThat(MemorySize.format(64L << 30)).isEqualTo("64 GiB");
        assertThat(MemorySize.format(1536L << 20)).isEqualTo("1536 MiB");
        assertThat(MemorySize.format(1000)).isEqualTo("1000 bytes");
    }

    @Test
    void keySuggestionShouldCatchTyposButNotNonsense() {
        assertThat(KeySuggestion.nearest("kernal", java.util.List.of("kernel", "initrd"))).contains("kernel");
        assertThat(KeySuggestion.nearest("ram", java.util.List.of("name", "memory"))).isEmpty();
    }
}
