package io.jremus.vmm.devices.virtio.blk;

import static io.jremus.vmm.devices.virtio.FakeDriver.F_NEXT;
import static io.jremus.vmm.devices.virtio.FakeDriver.F_WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jremus.vmm.devices.DeviceStateException;
import io.jremus.vmm.devices.RecordingLine;
import io.jremus.vmm.devices.virtio.DeviceStatus;
import io.jremus.vmm.devices.virtio.FakeDriver;
import io.jremus.vmm.devices.virtio.VirtioFeatures;
import io.jremus.vmm.devices.virtio.VirtioMmioTransport;
import io.jremus.vmm.net.IoVec;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VirtioBlkDeviceTest {
    static final long HDR = 0x40000, DATA = 0x50000, STATUS = 0x60000;
    static final int SECTORS = 64;
    static final long ALL = VirtioFeatures.VERSION_1 | VirtioBlk.F_FLUSH | VirtioBlk.F_BLK_SIZE | VirtioBlk.F_SEG_MAX;

    @TempDir
    Path dir;
    Path image;
    final FakeDriver driver = new FakeDriver();
    final RecordingLine irq = new RecordingLine();
    CountingBackend backend;
    VirtioBlkDevice device;
    VirtioMmioTransport transport;
    FakeDriver.Ring ring;
    final List<String> events = new ArrayList<>();
    boolean refuseBefore;

    /** Records the order of flushes and listener calls, and what the guest saw at flush time. */
    final class CountingBackend implements BlockBackend {
        final RawImageFile inner;
        int flushes;
        byte statusAtFlush = -2;

        CountingBackend(RawImageFile inner) {
            this.inner = inner;
        }

        @Override public long sizeBytes() { return inner.sizeBytes(); }
        @Override public boolean readOnly() { return inner.readOnly(); }
        @Override public String id() { return inner.id(); }
        @Override public void read(long offset, IoVec iov) throws IOException { inner.read(offset, iov); }
        @Override public void write(long offset, IoVec iov) throws IOException { inner.write(offset, iov); events.add("write@" + offset); }

        @Override
        public void flush() throws IOException {
            statusAtFlush = driver.memory.getByte(STATUS);
            inner.flush();
            flushes++;
            events.add("fdatasync");
        }

        @Override public void close() { inner.close(); }
    }

    @BeforeEach
    void setUp() throws IOException {
        image = dir.resolve("disk-under-test.img");
        byte[] content = new byte[SECTORS * 512];
        for (int i = 0; i < content.length; i++) content[i] = (byte) (i / 512);
        Files.write(image, content);
    }

    @AfterEach
    void tearDown() {
        if (device != null) device.close();
    }

    private void start(boolean readOnly, long features) throws IOException {
        backend = new CountingBackend(RawImageFile.open(image, readOnly));
        device = new VirtioBlkDevice(backend, null);
        device.setWriteListener(new BlockWriteListener() {
            @Override
            public void beforeWrite(long sector, long length) {
                if (refuseBefore) throw new IllegalStateException("activity log full");
                events.add("before " + sector + "+" + length);
            }

            @Override
            public void written(long sector, long length, BlockData data) {
                events.add("written " + sector + "+" + length + " first=" + data.toArray()[0]);
            }

            @Override
            public void flushed() {
                events.add("flushed");
            }
        });
        transport = new VirtioMmioTransport(device, driver.memory, irq, "virtio-blk@test");
        driver.attach(transport);
        ring = driver.ring(256, 0x10000);
        assertThat(driver.negotiate(features) & DeviceStatus.FEATURES_OK).isNotZero();
        driver.setupQueue(0, ring);
        driver.driverOk();
    }

    private void header(int type, long sector) {
        MemorySegment h = driver.raw(HDR, 16);
        h.set(ValueLayout.JAVA_INT_UNALIGNED, 0, type);
        h.set(ValueLayout.JAVA_INT_UNALIGNED, 4, 0);
        h.set(ValueLayout.JAVA_LONG_UNALIGNED, 8, sector);
        driver.raw(STATUS, 1).set(ValueLayout.JAVA_BYTE, 0, (byte) 0x7F); // "not answered" sentinel
    }

    /** header | data (readable or writable) | status, as three descriptors, then notify. */
    private int request(int type, long sector, int dataLen, boolean dataWritable) {
        header(type, sector);
        int slot = ring.availIdx;
        if (dataLen > 0) {
            ring.desc(0, HDR, 16, F_NEXT, 1);
            ring.desc(1, DATA, dataLen, F_NEXT | (dataWritable ? F_WRITE : 0), 2);
            ring.desc(2, STATUS, 1, F_WRITE, 0);
        } else {
            ring.desc(0, HDR, 16, F_NEXT, 2);
            ring.desc(2, STATUS, 1, F_WRITE, 0);
        }
        ring.makeAvailable(0);
        driver.notify(0);
        return slot;
    }

    private int status() {
        return driver.memory.getByte(STATUS);
    }

    private void assertBroken() {
        assertThat(transport.isBroken()).isTrue();
        assertThat(driver.status() & DeviceStatus.DEVICE_NEEDS_RESET).isNotZero();
    }

    @Test
    void shouldOfferCapacityBlockSizeFlushAndSegMaxInConfig() throws IOException {
        start(false, ALL);
        assertThat(device.deviceType()).isEqualTo(2);
        assertThat(device.readConfig(0, 8)).isEqualTo(SECTORS);
        assertThat(device.readConfig(20, 4)).isEqualTo(512);
        assertThat(device.readConfig(12, 4)).isEqualTo(254);
        assertThat(driver.deviceFeatures() & VirtioBlk.F_RO).isZero();
        assertThat(driver.deviceFeatures() & VirtioBlk.F_FLUSH).isNotZero();
    }

    @Test
    void shouldWriteSectorsAndReadThemBack() throws IOException {
        start(false, ALL);
        byte[] pattern = new byte[1024];
        Arrays.fill(pattern, (byte) 0x5A);
        driver.raw(DATA, 1024).copyFrom(MemorySegment.ofArray(pattern));
        int slot = request(VirtioBlk.T_OUT, 10, 1024, false);
        assertThat(status()).isEqualTo(VirtioBlk.S_OK);
        assertThat(ring.usedLen(slot)).isEqualTo(1);
        assertThat(irq.level()).isTrue();

        byte[] onDisk = Files.readAllBytes(image);
        assertThat(Arrays.copyOfRange(onDisk, 10 * 512, 12 * 512)).containsOnly(0x5A);
        assertThat(onDisk[12 * 512]).isEqualTo((byte) 12);

        driver.raw(DATA, 2048).fill((byte) 0);
        slot = request(VirtioBlk.T_IN, 9, 2048, true);
        assertThat(status()).isEqualTo(VirtioBlk.S_OK);
        assertThat(ring.usedLen(slot)).isEqualTo(2049);
        byte[] back = driver.memory.read(DATA, 2048);
        assertThat(back[0]).isEqualTo((byte) 9);
        assertThat(Arrays.copyOfRange(back, 512, 1536)).containsOnly(0x5A);
        assertThat(back[1536]).isEqualTo((byte) 12);
    }

    @Test
    void shouldAcknowledgeFlushOnlyAfterFdatasyncReturned() throws IOException {
        start(false, ALL);
        request(VirtioBlk.T_FLUSH, 0, 0, false);
        assertThat(backend.flushes).isEqualTo(1);
        assertThat(backend.statusAtFlush).as("status byte while fdatasync ran").isEqualTo((byte) 0x7F);
        assertThat(status()).isEqualTo(VirtioBlk.S_OK);
        assertThat(events).containsExactly("fdatasync", "flushed");
    }

    @Test
    void shouldReportEachCompletedWriteToTheListenerBeforeCompletingIt() throws IOException {
        start(false, ALL);
        driver.raw(DATA, 512).fill((byte) 7);
        request(VirtioBlk.T_OUT, 3, 512, false);
        assertThat(events).containsExactly("before 3+512", "write@1536", "written 3+512 first=7");
        assertThat(backend.flushes).isZero(); // FLUSH negotiated: writes may stay in the host cache
    }

    @Test
    void shouldFailAWriteWithIoerrAndLeaveTheDiskUntouchedWhenBeforeWriteThrows() throws IOException {
        start(false, ALL);
        refuseBefore = true;
        driver.raw(DATA, 512).fill((byte) 7);
        request(VirtioBlk.T_OUT, 3, 512, false);
        assertThat(status()).isEqualTo(VirtioBlk.S_IOERR);
        assertThat(events).as("nothing reached the backend or the listener").isEmpty();
        assertThat(Files.readAllBytes(image)[3 * 512]).isNotEqualTo((byte) 7);
    }

    @Test
    void shouldWriteThroughWhenTheDriverDidNotAcceptFlush() throws IOException {
        start(false, VirtioFeatures.VERSION_1);
        driver.raw(DATA, 512).fill((byte) 7);
        request(VirtioBlk.T_OUT, 3, 512, false);
        assertThat(status()).isEqualTo(VirtioBlk.S_OK);
        assertThat(events).containsExactly("before 3+512", "write@1536", "fdatasync", "written 3+512 first=7", "flushed");
    }

    @Test
    void shouldAnswerGetIdWithTheSerial() throws IOException {
        start(false, ALL);
        int slot = request(VirtioBlk.T_GET_ID, 0, 20, true);
        assertThat(status()).isEqualTo(VirtioBlk.S_OK);
        assertThat(ring.usedLen(slot)).isEqualTo(21);
        assertThat(new String(driver.memory.read(DATA, 20), StandardCharsets.US_ASCII)).isEqualTo("disk-under-test.img\0");
        assertThat(device.serial()).isEqualTo("disk-under-test.img");
        assertThat(VirtioBlkDevice.defaultSerial("a-rather-long-image-name-0042.raw")).isEqualTo("-image-name-0042.raw");
    }

    @Test
    void shouldFailReadsPastTheEndWithIoErr() throws IOException {
        start(false, ALL);
        request(VirtioBlk.T_IN, SECTORS - 1, 1024, true);
        assertThat(status()).isEqualTo(VirtioBlk.S_IOERR);
        request(VirtioBlk.T_IN, -1L, 512, true); // 2^64-1 as an unsigned sector
        assertThat(status()).isEqualTo(VirtioBlk.S_IOERR);
        request(VirtioBlk.T_OUT, SECTORS, 512, false);
        assertThat(status()).isEqualTo(VirtioBlk.S_IOERR);
        assertThat(transport.isBroken()).isFalse();
    }

    @Test
    void shouldFailLengthsThatAreNotAMultipleOf512WithIoErr() throws IOException {
        start(false, ALL);
        request(VirtioBlk.T_IN, 0, 100, true);
        assertThat(status()).isEqualTo(VirtioBlk.S_IOERR);
        request(VirtioBlk.T_OUT, 0, 513, false);
        assertThat(status()).isEqualTo(VirtioBlk.S_IOERR);
        assertThat(Files.readAllBytes(image)[0]).isEqualTo((byte) 0);
    }

    @Test
    void shouldAnswerUnknownRequestTypesWithUnsupp() throws IOException {
        start(false, ALL);
        int slot = request(11 /* DISCARD, not offered */, 0, 16, false);
        assertThat(status()).isEqualTo(VirtioBlk.S_UNSUPP);
        assertThat(ring.usedLen(slot)).isEqualTo(1);
        assertThat(transport.isBroken()).isFalse();
    }

    @Test
    void shouldMarkTheDeviceBrokenWhenTheStatusDescriptorIsReadOnly() throws IOException {
        start(false, ALL);
        header(VirtioBlk.T_IN, 0);
        ring.desc(0, HDR, 16, F_NEXT, 1);
        ring.desc(1, STATUS, 1, 0, 0);
        ring.makeAvailable(0);
        driver.notify(0);
        assertBroken();
        assertThat(status()).as("nothing written").isEqualTo(0x7F);
    }

    @Test
    void shouldAnswerIoErrWhenTheHeaderIsInAWriteOnlyBuffer() throws IOException {
        start(false, ALL);
        header(VirtioBlk.T_IN, 0);
        ring.desc(0, HDR, 16, F_NEXT | F_WRITE, 1);
        ring.desc(1, STATUS, 1, F_WRITE, 0);
        ring.makeAvailable(0);
        driver.notify(0);
        assertThat(status()).isEqualTo(VirtioBlk.S_IOERR);
        assertThat(transport.isBroken()).isFalse();
    }

    @Test
    void shouldMarkTheDeviceBrokenForADataBufferBeyondGuestRam() throws IOException {
        start(false, ALL);
        header(VirtioBlk.T_IN, 0);
        ring.desc(0, HDR, 16, F_NEXT, 1);
        ring.desc(1, DATA, 0xFFFF_FE00L, F_NEXT | F_WRITE, 2);
        ring.desc(2, STATUS, 1, F_WRITE, 0);
        ring.makeAvailable(0);
        driver.notify(0);
        assertBroken();
    }

    @Test
    void shouldFollowAnyDescriptorLayout() throws IOException {
        start(false, ALL);
        // Header split 10 + 6 bytes; data and status share one writable buffer.
        header(VirtioBlk.T_IN, 5);
        driver.raw(HDR + 0x100, 6).copyFrom(driver.raw(HDR + 10, 6));
        ring.desc(0, HDR, 10, F_NEXT, 1);
        ring.desc(1, HDR + 0x100, 6, F_NEXT, 2);
        ring.desc(2, DATA, 513, F_WRITE, 0);
        ring.makeAvailable(0);
        driver.notify(0);
        assertThat(driver.memory.getByte(DATA + 512)).isEqualTo((byte) VirtioBlk.S_OK);
        assertThat(driver.memory.read(DATA, 512)).containsOnly(5);
    }

    @Test
    void shouldMarkGuestPagesFilledFromDiskDirty() throws IOException {
        start(false, ALL);
        driver.clearDirty();
        request(VirtioBlk.T_IN, 0, 8192, true);
        assertThat(status()).isEqualTo(VirtioBlk.S_OK);
        assertThat(driver.dirty(DATA)).isTrue();
        assertThat(driver.dirty(DATA + 4096)).isTrue();
        assertThat(driver.dirty(STATUS)).isTrue();
        assertThat(driver.dirty(ring.used)).isTrue();
        assertThat(driver.dirty(DATA + 8192)).isFalse();
        assertThat(driver.dirty(HDR)).as("only read by the device").isFalse();
    }

    @Test
    void shouldRefuseWritesToAReadOnlyDisk() throws IOException {
        start(true, ALL | VirtioBlk.F_RO);
        assertThat(driver.deviceFeatures() & VirtioBlk.F_RO).isNotZero();
        driver.raw(DATA, 512).fill((byte) 0x33);
        request(VirtioBlk.T_OUT, 0, 512, false);
        assertThat(status()).isEqualTo(VirtioBlk.S_IOERR);
        assertThat(Files.readAllBytes(image)[0]).isEqualTo((byte) 0);
        request(VirtioBlk.T_IN, 1, 512, true);
        assertThat(status()).isEqualTo(VirtioBlk.S_OK);
        assertThat(events).isEmpty();
    }

    @Test
    void shouldRestoreFromSavedStateOnlyOverTheSameDisk() throws Exception {
        start(false, ALL);
        VirtioBlkState saved = device.save();
        assertThat(saved.capacitySectors()).isEqualTo(SECTORS);
        assertThat(saved.ackedFeatures()).isEqualTo(VirtioBlk.F_FLUSH | VirtioBlk.F_BLK_SIZE | VirtioBlk.F_SEG_MAX);

        try (VirtioBlkDevice again = VirtioBlkDevice.restore(RawImageFile.open(image, false), saved)) {
            assertThat(again.save()).isEqualTo(saved);
        }
        Path other = dir.resolve("other.img");
        Files.write(other, new byte[4096]);
        try (RawImageFile small = RawImageFile.open(other, false)) {
            assertThatThrownBy(() -> VirtioBlkDevice.restore(small, saved)).isInstanceOf(DeviceStateException.class)
                    .hasMessageContaining("capacity 64 sectors").hasMessageContaining("has 8");
        }
        try (RawImageFile ro = RawImageFile.open(image, true)) {
            assertThatThrownBy(() -> VirtioBlkDevice.restore(ro, saved)).hasMessageContaining("read-only");
        }
        try (RawImageFile same = RawImageFile.open(image, false)) {
            var bad = new VirtioBlkState(saved.imageId(), SECTORS, false, saved.serial(), 1L << 20);
            assertThatThrownBy(() -> VirtioBlkDevice.restore(same, bad)).hasMessageContaining("were not offered");
        }
    }

    @Test
    void shouldRefuseToOpenAnImageSmallerThanASector() throws IOException {
        Path tiny = dir.resolve("tiny.img");
        Files.write(tiny, new byte[100]);
        assertThatThrownBy(() -> RawImageFile.open(tiny, false)).isInstanceOf(IOException.class)
                .hasMessageContaining("smaller than one 512-byte sector");
    }
}
