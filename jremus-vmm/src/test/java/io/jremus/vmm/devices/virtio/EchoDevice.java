package io.jremus.vmm.devices.virtio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A trivial device for transport tests: each chain's readable bytes are copied into its
 * writable buffers (a chain with nothing readable gets 0xAB bytes), then the chain is used.
 */
final class EchoDevice implements VirtioDevice {
    static final int TYPE = 42;
    final int queues;
    final int maxSize;
    final byte[] config = {1, 2, 3, 4, 5, 6, 7, 8};
    final AtomicInteger notifies = new AtomicInteger();
    final AtomicInteger resets = new AtomicInteger();
    volatile ActivationContext context;

    EchoDevice(int queues, int maxSize) {
        this.queues = queues;
        this.maxSize = maxSize;
    }

    @Override
    public int deviceType() {
        return TYPE;
    }

    @Override
    public long deviceFeatures() {
        return 1L << 5;
    }

    @Override
    public int queueCount() {
        return queues;
    }

    @Override
    public int queueMaxSize(int queue) {
        return maxSize;
    }

    @Override
    public long readConfig(int offset, int size) {
        return ConfigSpace.read(config, offset, size);
    }

    @Override
    public void writeConfig(int offset, int size, long value) {
        ConfigSpace.write(config, offset, size, value);
    }

    @Override
    public void activate(ActivationContext context) {
        this.context = context;
    }

    @Override
    public void queueNotify(int q) throws VirtqueueException {
        notifies.incrementAndGet();
        Virtqueue queue = context.queue(q);
        DescriptorChain chain = queue.newChain();
        while (queue.pop(chain)) {
            long in = chain.readableBytes();
            MemorySegment data = Arena.ofAuto().allocate(Math.max(in, chain.writableBytes()));
            if (in > 0) chain.readInto(context.memory(), data.asSlice(0, in));
            else data.fill((byte) 0xAB);
            long written = chain.writeFrom(context.memory(), in > 0 ? data.asSlice(0, in) : data);
            queue.addUsed(chain.head(), written);
        }
        context.signals().usedBuffers(queue);
    }

    @Override
    public void reset() {
        resets.incrementAndGet();
        context = null;
    }
}
