package io.jremus.vmm.boot;

import io.jremus.vmm.memory.GuestMemory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Guest RAM for a test, at guest address 0, freed on close. */
final class GuestMemoryFixture implements AutoCloseable {
    final Arena arena = Arena.ofConfined();
    final GuestMemory memory;

    GuestMemoryFixture(long size) {
        memory = GuestMemory.of(arena.allocate(size, 4096));
    }

    static MemorySegment segment(byte[] bytes) {
        return MemorySegment.ofArray(bytes);
    }

    @Override
    public void close() {
        arena.close();
    }
}
