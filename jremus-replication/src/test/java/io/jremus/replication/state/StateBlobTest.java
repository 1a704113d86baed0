package io.jremus.replication.state;

import io.jremus.vmm.snapshot.SnapshotException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A state blob from the wire is untrusted: malformed framing is refused with the position. */
class StateBlobTest {
    @Test
    void shouldRefuseAPartThatClaimsMoreBytesThanRemain() {
        byte[] blob = ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN).put((byte) 1).putInt(1000).array();
        assertThatThrownBy(() -> StateBlob.decode(blob)).isInstanceOf(SnapshotException.class).hasMessageContaining("claims 1000 bytes");
    }

    @Test
    void shouldRefuseATruncatedPartHeader() {
        assertThatThrownBy(() -> StateBlob.decode(new byte[]{1, 0, 0})).isInstanceOf(SnapshotException.class).hasMessageContaining("truncated");
    }

    @Test
    void shouldRefuseAnUnknownPartKind() {
        byte[] blob = ByteBuffer.allocate(5).order(ByteOrder.LITTLE_ENDIAN).put((byte) 99).putInt(0).array();
        assertThatThrownBy(() -> StateBlob.decode(blob)).isInstanceOf(SnapshotException.class).hasMessageContaining("unknown kind 99");
    }

    @Test
    void shouldRefuseAnIncompleteState() {
        assertThatThrownBy(() -> StateBlob.decode(new byte[0])).isInstanceOf(SnapshotException.class).hasMessageContaining("incomplete");
    }

    @Test
    void shouldRefuseAnAbsurdlyLargeBlob() {
        assertThatThrownBy(() -> StateBlob.decode(new byte[StateBlob.MAX_BYTES + 1])).isInstanceOf(SnapshotException.class)
                .hasMessageContaining("exceeds");
    }
}
