package io.jremus.replication.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DirtyBlockBitmapTest {
    final DirtyBlockBitmap bitmap = new DirtyBlockBitmap(1_000 * 4096L + 512); // last block partial

    @Test
    void shouldMarkEachBlockARangeTouchesOnce() {
        bitmap.mark(4095, 2);            // blocks 0 and 1
        bitmap.mark(4096, 4096);         // block 1 again
        bitmap.mark(63 * 4096L, 3 * 4096L); // 63, 64, 65: across a word boundary
        assertThat(bitmap.count()).isEqualTo(5);
        List<Long> blocks = new ArrayList<>();
        bitmap.forEachDirty(blocks::add);
        assertThat(blocks).containsExactly(0L, 1L, 63L, 64L, 65L);
        assertThat(bitmap.isDirty(2)).isFalse();
    }

    @Test
    void shouldFindTheNextDirtyBlockAndClearBlocks() {
        bitmap.mark(1000 * 4096L, 512); // the partial last block
        bitmap.mark(130 * 4096L, 4096);
        assertThat(bitmap.blocks()).isEqualTo(1001);
        assertThat(bitmap.nextDirty(0)).isEqualTo(130);
        assertThat(bitmap.nextDirty(131)).isEqualTo(1000);
        bitmap.clear(130);
        assertThat(bitmap.nextDirty(0)).isEqualTo(1000);
        assertThat(bitmap.count()).isEqualTo(1);
        bitmap.clear();
        assertThat(bitmap.nextDirty(0)).isEqualTo(-1);
        assertThat(bitmap.count()).isZero();
    }

    @Test
    void shouldRefuseRangesOutsideTheDisk() {
        assertThatThrownBy(() -> bitmap.mark(1000 * 4096L, 1024)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("outside a disk of 4096512 bytes");
        assertThatThrownBy(() -> bitmap.mark(-512, 512)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> bitmap.mark(Long.MAX_VALUE - 10, 512)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> bitmap.isDirty(1001)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThat(bitmap.count()).isZero();
    }
}
