package io.jremus.replication.state;

import io.jremus.vmm.devices.serial.SerialState;
import io.jremus.vmm.devices.virtio.VirtioMmioState;
import io.jremus.vmm.devices.virtio.blk.VirtioBlkState;
import io.jremus.vmm.devices.virtio.net.VirtioNetState;
import io.jremus.vmm.snapshot.DeviceStates;
import io.jremus.vmm.snapshot.SnapshotException;
import io.jremus.vmm.snapshot.VcpuState;
import io.jremus.vmm.snapshot.VmSnapshotState;
import io.jremus.vmm.snapshot.VmState;
import io.jremus.vmm.snapshot.format.StateCodec;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A whole {@link VmSnapshotState} (VM, vCPUs, devices) as one byte array for a checkpoint's
 * state record, built from the snapshot format's per-record codecs so the two formats cannot
 * drift apart. Layout: a sequence of {@code u8 kind, u32 length, body}, little-endian. Decoding
 * treats the bytes as untrusted: every length is checked and every part goes through the
 * snapshot codec's validation.
 */
public final class StateBlob {
    private static final int VM = 1;
    private static final int VCPU = 2;
    private static final int SERIAL = 3;
    private static final int TRANSPORT = 4;
    private static final int BLK = 5;
    private static final int NET = 6;
    /** Far above any real state (a few KiB per vCPU), low enough to refuse nonsense early. */
    public static final int MAX_BYTES = 16 << 20;

    private StateBlob() {
    }

    public static byte[] encode(VmSnapshotState s) {
        List<byte[]> parts = new ArrayList<>();
        List<Integer> kinds = new ArrayList<>();
        kinds.add(VM);
        parts.add(StateCodec.encodeVm(s.vm()));
        for (VcpuState v : s.vcpus()) {
            kinds.add(VCPU);
            parts.add(StateCodec.encodeVcpu(v));
        }
        DeviceStates d = s.devices();
        kinds.add(SERIAL);
        parts.add(StateCodec.encodeSerial(d.serial()));
        for (int i = 0; i < d.transports().size(); i++) {
            kinds.add(TRANSPORT);
            parts.add(StateCodec.encodeTransport(i, d.transports().get(i)));
        }
        for (int i = 0; i < d.disks().size(); i++) {
            kinds.add(BLK);
            parts.add(StateCodec.encodeBlk(i, d.disks().get(i)));
        }
        for (int i = 0; i < d.nets().size(); i++) {
            kinds.add(NET);
            parts.add(StateCodec.encodeNet(d.disks().size() + i, d.nets().get(i)));
        }
        int total = 0;
        for (byte[] p : parts) total += 5 + p.length;
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < parts.size(); i++) {
            b.put((byte) (int) kinds.get(i)).putInt(parts.get(i).length).put(parts.get(i));
        }
        return b.array();
    }

    public static VmSnapshotState decode(byte[] blob) throws SnapshotException {
        if (blob.length > MAX_BYTES) throw new SnapshotException(SnapshotException.Kind.CORRUPT, "state blob of " + blob.length + " bytes exceeds " + MAX_BYTES);
        ByteBuffer b = ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN);
        VmState vm = null;
        SerialState serial = null;
        List<VcpuState> vcpus = new ArrayList<>();
        List<VirtioMmioState> transports = new ArrayList<>();
        List<VirtioBlkState> disks = new ArrayList<>();
        List<VirtioNetState> nets = new ArrayList<>();
        while (b.hasRemaining()) {
            if (b.remaining() < 5) throw new SnapshotException(SnapshotException.Kind.CORRUPT, "state blob truncated at byte " + b.position());
            int kind = b.get() & 0xFF;
            int len = b.getInt();
            if (len < 0 || len > b.remaining()) {
                throw new SnapshotException(SnapshotException.Kind.CORRUPT, "state blob part " + kind + " at byte " + (b.position() - 5) + " claims " + len
                        + " bytes, " + b.remaining() + " remain");
            }
            byte[] body = new byte[len];
            b.get(body);
            switch (kind) {
                case VM -> {
                    if (vm != null) throw new SnapshotException(SnapshotException.Kind.CORRUPT, "state blob holds two VM states");
                    vm = StateCodec.decodeVm(body);
                }
                case VCPU -> vcpus.add(StateCodec.decodeVcpu(body));
                case SERIAL -> serial = StateCodec.decodeSerial(body);
                case TRANSPORT -> transports.add(expectSlot(StateCodec.decodeTransport(body), transports.size()));
                case BLK -> disks.add(expectSlot(StateCodec.decodeBlk(body), disks.size()));
                case NET -> nets.add(StateCodec.decodeNet(body).state());
                default -> throw new SnapshotException(SnapshotException.Kind.CORRUPT, "state blob part of unknown kind " + kind);
            }
        }
        if (vm == null || serial == null || vcpus.isEmpty()) {
            throw new SnapshotException(SnapshotException.Kind.CORRUPT, "state blob is incomplete (VM " + (vm != null) + ", serial " + (serial != null)
                    + ", vCPUs " + vcpus.size() + ")");
        }
        return new VmSnapshotState(vm, vcpus, new DeviceStates(serial, transports, disks, nets));
    }

    private static <T> T expectSlot(StateCodec.Slotted<T> s, int expected) throws SnapshotException {
        if (s.slot() != expected) throw new SnapshotException(SnapshotException.Kind.CORRUPT, "device state for slot " + s.slot() + " where slot " + expected + " was due");
        return s.state();
    }
}
