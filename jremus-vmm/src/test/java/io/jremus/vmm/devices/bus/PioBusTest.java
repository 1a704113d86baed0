package io.jremus.vmm.devices.bus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jremus.vmm.devices.MmioDevice;
import io.jremus.vmm.devices.PioDevice;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PioBusTest {
    /** Records accesses; reads return the offset. */
    static final class Probe implements PioDevice, MmioDevice {
        final List<String> log = new ArrayList<>();

        @Override
        public long read(int port, int size) {
            log.add("r" + port + "/" + size);
            return port;
        }

        @Override
        public void write(int port, int size, long value) {
            log.add("w" + port + "/" + size + "=" + value);
        }

        @Override
        public long read(long offset, int size) {
            log.add("r" + offset + "/" + size);
            return offset;
        }

        @Override
        public void write(long offset, int size, long value) {
            log.add("w" + offset + "/" + size + "=" + value);
        }
    }

    @Test
    void shouldDispatchPortAccessesWithOffsetFromBase() {
        Probe com1 = new Probe();
        Probe other = new Probe();
        PioBus bus = new PioBus().register(0x3F8, 8, com1).register(0x60, 5, other);

        assertThat(bus.read(0x3FD, 1)).isEqualTo(5);
        bus.write(0x3F8, 1, 0x41);
        bus.write(0x64, 1, 0xFE);

        assertThat(com1.log).containsExactly("r5/1", "w0/1=65");
        assertThat(other.log).containsExactly("w4/1=254");
    }

    @Test
    void shouldReadAllOnesAndIgnoreWritesOnUnclaimedPorts() {
        PioBus bus = new PioBus().register(0x3F8, 8, new Probe());

        assertThat(bus.read(0x2F8, 1)).isEqualTo(0xFF);
        assertThat(bus.read(0x2F8, 2)).isEqualTo(0xFFFF);
        assertThat(bus.read(0x2F8, 4)).isEqualTo(0xFFFF_FFFFL);
        bus.write(0x2F8, 1, 1); // no exception, nothing happens
        // An access that runs past the end of a device is not the device's.
        assertThat(bus.read(0x3FF, 2)).isEqualTo(0xFFFF);
    }

    @Test
    void shouldRejectOverlappingRegistrations() {
        PioBus bus = new PioBus().register(0x3F8, 8, new Probe());

        assertThatThrownBy(() -> bus.register(0x3FF, 1, new Probe()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("overlaps [0x3f8, 0x400)");
        assertThatThrownBy(() -> bus.register(0xFFFF, 2, new Probe())).isInstanceOf(IllegalArgumentException.class);
        bus.register(0x400, 1, new Probe()); // adjacent is fine
    }

    @Test
    void shouldSurviveADeviceThatThrows() {
        PioBus bus = new PioBus().register(0x80, 1, new PioDevice() {
            @Override
            public long read(int port, int size) {
                throw new IllegalStateException("boom");
            }

            @Override
            public void write(int port, int size, long value) {
                throw new IllegalStateException("boom");
            }
        });

        assertThat(bus.read(0x80, 1)).isEqualTo(0xFF);
        bus.write(0x80, 1, 0);
    }

    @Test
    void shouldDispatchMmioWithOffsetsAndAllOnesElsewhere() {
        Probe dev = new Probe();
        MmioBus bus = new MmioBus().register(0xD000_0000L, 0x200, dev);

        assertThat(bus.read(0xD000_0070L, 4)).isEqualTo(0x70);
        bus.write(0xD000_0100L, 1, 7);
        assertThat(bus.read(0xD000_0200L, 4)).isEqualTo(0xFFFF_FFFFL);
        assertThat(bus.read(0xCFFF_FFFCL, 8)).isEqualTo(-1L);
        assertThat(dev.log).containsExactly("r112/4", "w256/1=7");
        assertThatThrownBy(() -> bus.register(0xD000_01FFL, 0x10, new Probe()))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
