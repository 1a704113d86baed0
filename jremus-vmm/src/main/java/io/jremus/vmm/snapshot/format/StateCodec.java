package io.jremus.vmm.snapshot.format;

import io.jremus.vmm.devices.serial.SerialState;
import io.jremus.vmm.devices.virtio.QueueState;
import io.jremus.vmm.devices.virtio.VirtioMmioState;
import io.jremus.vmm.devices.virtio.blk.VirtioBlkState;
import io.jremus.vmm.devices.virtio.net.VirtioNetState;
import io.jremus.vmm.snapshot.SnapshotException;
import io.jremus.vmm.snapshot.VcpuState;
import io.jremus.vmm.snapshot.VmState;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static io.jremus.sys.kvm.KvmStructs.*;

/**
 * Bodies of the state records ({@code docs/snapshot-format.md}, "State records"): state record
 * ↔ bytes. Decoding treats the bytes as hostile: every length is bounded before anything is
 * allocated, the body must be consumed exactly, and the message names the record and field.
 * Semantic checks are the records' own ({@link VcpuState#validate}, the devices' restore).
 */
public final class StateCodec {
    private StateCodec() {
    }

    private static final int MAX_STRING = 256;
    private static final int MAX_QUEUES = 64;

    // ------------------------------------------------------------- VM_STATE

    public static byte[] encodeVm(VmState s) {
        return out((int) (3 * KVM_IRQCHIP_SIZE + KVM_PIT_STATE2_SIZE + KVM_CLOCK_DATA_SIZE))
                .put(s.picMaster()).put(s.picSlave()).put(s.ioapic()).put(s.pit()).put(s.clock()).array();
    }

    public static VmState decodeVm(byte[] body) throws SnapshotException {
        In in = new In(body, "VM_STATE");
        VmState s = new VmState(in.bytes((int) KVM_IRQCHIP_SIZE, "pic master"), in.bytes((int) KVM_IRQCHIP_SIZE, "pic slave"),
                in.bytes((int) KVM_IRQCHIP_SIZE, "ioapic"), in.bytes((int) KVM_PIT_STATE2_SIZE, "pit"),
                in.bytes((int) KVM_CLOCK_DATA_SIZE, "clock"));
        in.end();
        s.validate();
        return s;
    }

    // ------------------------------------------------------------- VCPU_STATE

    public static byte[] encodeVcpu(VcpuState s) {
        byte[][] blobs = {s.regs(), s.sregs(), s.fpu(), s.xsave(), s.xcrs(), s.debugRegs(), s.lapic(), s.events(), s.cpuid()};
        int size = 8 + 4 + 16 * s.msrIndex().length;
        for (byte[] b : blobs) size += 4 + b.length;
        ByteBuffer o = out(size).putInt(s.id()).putInt(s.mpState());
        for (byte[] b : blobs) o.putInt(b.length).put(b);
        o.putInt(s.msrIndex().length);
        for (int i = 0; i < s.msrIndex().length; i++) o.putInt(s.msrIndex()[i]).putInt(0).putLong(s.msrValue()[i]);
        return o.array();
    }

    public static VcpuState decodeVcpu(byte[] body) throws SnapshotException {
        In in = new In(body, "VCPU_STATE");
        int id = in.u32("id");
        int mp = in.u32("mp_state");
        byte[] regs = in.blob(KVM_REGS_SIZE, "regs");
        byte[] sregs = in.blob(KVM_SREGS_SIZE, "sregs");
        byte[] fpu = in.blob(KVM_FPU_SIZE, "fpu");
        byte[] xsave = in.blob(VcpuState.MAX_XSAVE, "xsave");
        byte[] xcrs = in.blob(KVM_XCRS_SIZE, "xcrs");
        byte[] dbg = in.blob(KVM_DEBUGREGS_SIZE, "debugregs");
        byte[] lapic = in.blob(KVM_LAPIC_STATE_SIZE, "lapic");
        byte[] events = in.blob(KVM_VCPU_EVENTS_SIZE, "vcpu_events");
        byte[] cpuid = in.blob(KVM_CPUID2_HEADER_SIZE + VcpuState.MAX_CPUID_ENTRIES * KVM_CPUID_ENTRY2_SIZE, "cpuid");
        int n = in.count(VcpuState.MAX_MSRS, "msr count");
        int[] idx = new int[n];
        long[] val = new long[n];
        for (int i = 0; i < n; i++) {
            idx[i] = in.u32("msr index");
            in.zero32("msr reserved");
            val[i] = in.u64("msr value");
        }
        in.end();
        VcpuState s = new VcpuState(id, mp, regs, sregs, fpu, xsave, xcrs, dbg, lapic, events, cpuid, idx, val);
        s.validate();
        return s;
    }

    // ------------------------------------------------------------- SERIAL_STATE

    public static byte[] encodeSerial(SerialState s) {
        byte[] rx = s.rxFifo();
        return out(8 + 4 + rx.length).put((byte) s.divisorLow()).put((byte) s.divisorHigh()).put((byte) s.ier())
                .put((byte) s.lcr()).put((byte) s.mcr()).put((byte) s.fcr()).put((byte) s.scratch())
                .put((byte) ((s.overrun() ? 1 : 0) | (s.thrInterrupt() ? 2 : 0))).putInt(rx.length).put(rx).array();
    }

    public static SerialState decodeSerial(byte[] body) throws SnapshotException {
        In in = new In(body, "SERIAL_STATE");
        int dll = in.u8(), dlm = in.u8(), ier = in.u8(), lcr = in.u8(), mcr = in.u8(), fcr = in.u8(), scr = in.u8();
        int flags = in.u8();
        if ((flags & ~3) != 0) throw in.bad("flags 0x" + Integer.toHexString(flags));
        byte[] rx = in.blob(4096, "rx fifo");
        in.end();
        return new SerialState(dll, dlm, ier, lcr, mcr, fcr, scr, (flags & 1) != 0, (flags & 2) != 0, rx);
    }

    // ------------------------------------------------------------- VIRTIO_MMIO_STATE

    public static byte[] encodeTransport(int slot, VirtioMmioState s) {
        ByteBuffer o = out(40 + 40 * s.queues().size()).putInt(slot).putInt(s.status()).putInt(s.deviceFeaturesSel())
                .putInt(s.driverFeaturesSel()).putLong(s.driverFeatures()).putInt(s.queueSelect()).putInt(s.interruptStatus())
                .putInt(s.configGeneration()).putInt(s.queues().size());
        for (QueueState q : s.queues()) {
            o.putInt(q.size()).putInt((q.ready() ? 1 : 0) | (q.eventIdx() ? 2 : 0)).putLong(q.descAddr()).putLong(q.driverAddr())
                    .putLong(q.deviceAddr()).putInt(q.nextAvail()).putInt(q.nextUsed());
        }
        return o.array();
    }

    /** @return the slot and the state */
    public static Slotted<VirtioMmioState> decodeTransport(byte[] body) throws SnapshotException {
        In in = new In(body, "VIRTIO_MMIO_STATE");
        int slot = in.u32("slot");
        int status = in.u32("status");
        int dfs = in.u32("device features sel");
        int drs = in.u32("driver features sel");
        long features = in.u64("driver features");
        int qsel = in.u32("queue sel");
        int isr = in.u32("interrupt status");
        int gen = in.u32("config generation");
        int n = in.count(MAX_QUEUES, "queue count");
        List<QueueState> qs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int size = in.u32("queue size");
            int flags = in.u32("queue flags");
            if ((flags & ~3) != 0) throw in.bad("queue " + i + " flags 0x" + Integer.toHexString(flags));
            long desc = in.u64("desc"), drv = in.u64("driver"), dev = in.u64("device");
            int avail = in.u32("next avail"), used = in.u32("next used");
            if ((avail & ~0xFFFF) != 0 || (used & ~0xFFFF) != 0) throw in.bad("queue " + i + " ring index out of 0..65535");
            qs.add(new QueueState(size, (flags & 1) != 0, desc, drv, dev, avail, used, (flags & 2) != 0));
        }
        in.end();
        return new Slotted<>(slot, new VirtioMmioState(status, dfs, drs, features, qsel, isr, gen, qs));
    }

    // ------------------------------------------------------------- VIRTIO_BLK_STATE / VIRTIO_NET_STATE

    public static byte[] encodeBlk(int slot, VirtioBlkState s) {
        byte[] id = s.imageId().getBytes(StandardCharsets.UTF_8);
        byte[] serial = s.serial().getBytes(StandardCharsets.UTF_8);
        return out(24 + 8 + id.length + serial.length).putInt(slot).putInt(s.readOnly() ? 1 : 0).putLong(s.capacitySectors())
                .putLong(s.ackedFeatures()).putInt(id.length).put(id).putInt(serial.length).put(serial).array();
    }

    public static Slotted<VirtioBlkState> decodeBlk(byte[] body) throws SnapshotException {
        In in = new In(body, "VIRTIO_BLK_STATE");
        int slot = in.u32("slot");
        int flags = in.u32("flags");
        if ((flags & ~1) != 0) throw in.bad("flags 0x" + Integer.toHexString(flags));
        long cap = in.u64("capacity");
        long acked = in.u64("acked features");
        String id = in.string("image id");
        String serial = in.string("serial");
        in.end();
        return new Slotted<>(slot, new VirtioBlkState(id, cap, flags == 1, serial, acked));
    }

    public static byte[] encodeNet(int slot, VirtioNetState s) {
        byte[] mac = s.mac().getBytes(StandardCharsets.UTF_8);
        return out(16 + 4 + mac.length).putInt(slot).putInt(s.mtu()).putLong(s.ackedFeatures()).putInt(mac.length).put(mac).array();
    }

    public static Slotted<VirtioNetState> decodeNet(byte[] body) throws SnapshotException {
        In in = new In(body, "VIRTIO_NET_STATE");
        int slot = in.u32("slot");
        int mtu = in.u32("mtu");
        long acked = in.u64("acked features");
        String mac = in.string("mac");
        in.end();
        return new Slotted<>(slot, new VirtioNetState(mac, mtu, acked));
    }

    /** A per-slot device record. */
    public record Slotted<T>(int slot, T state) {
    }

    private static ByteBuffer out(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A bounds-checked little-endian reader over one record body. */
    private static final class In {
        private final ByteBuffer b;
        private final String record;

        In(byte[] body, String record) {
            this.b = ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN);
            this.record = record;
        }

        SnapshotException bad(String what) {
            return new SnapshotException(SnapshotException.Kind.CORRUPT, record + ": " + what);
        }

        private void need(int n, String field) throws SnapshotException {
            if (b.remaining() < n) throw bad("truncated at " + field + " (offset " + b.position() + ", need " + n + " bytes, " + b.remaining() + " left)");
        }

        int u8() throws SnapshotException {
            need(1, "byte");
            return b.get() & 0xFF;
        }

        int u32(String field) throws SnapshotException {
            need(4, field);
            return b.getInt();
        }

        long u64(String field) throws SnapshotException {
            need(8, field);
            return b.getLong();
        }

        void zero32(String field) throws SnapshotException {
            int v = u32(field);
            if (v != 0) throw bad(field + " is 0x" + Integer.toHexString(v) + ", must be 0");
        }

        int count(int max, String field) throws SnapshotException {
            int n = u32(field);
            if (n < 0 || n > max) throw bad(field + " " + Integer.toUnsignedString(n) + " exceeds " + max);
            return n;
        }

        byte[] bytes(int n, String field) throws SnapshotException {
            need(n, field);
            byte[] out = new byte[n];
            b.get(out);
            return out;
        }

        /** A u32 length then that many bytes; the length is bounded before allocation. */
        byte[] blob(long max, String field) throws SnapshotException {
            int n = u32(field + " length");
            if (n < 0 || n > max) throw bad(field + " length " + Integer.toUnsignedString(n) + " exceeds " + max);
            return bytes(n, field);
        }

        String string(String field) throws SnapshotException {
            byte[] raw = blob(MAX_STRING, field);
            try {
                return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(raw)).toString();
            } catch (CharacterCodingException e) {
                throw bad(field + " is not UTF-8");
            }
        }

        void end() throws SnapshotException {
            if (b.remaining() != 0) throw bad(b.remaining() + " unexpected bytes after the last field");
        }
    }
}
