package io.jremus.vmm.boot;

/**
 * A segment register's hidden (cached) state, field for field what {@code kvm_segment} holds,
 * so the VM core copies it without interpretation.
 *
 * @param selector GDT selector (index * 8)
 * @param base     linear base address
 * @param limit    limit in bytes (already scaled: 0xFFFFFFFF for a 4 GiB page-granular segment)
 * @param type     the 4-bit descriptor type (e.g. 0xB execute/read accessed code, 0x3 read/write
 *                 accessed data, 0xB busy TSS when {@code s} is false)
 * @param present  P bit
 * @param dpl      descriptor privilege level
 * @param db       D/B bit: 32-bit default operand size (must be 0 for 64-bit code)
 * @param s        S bit: code/data (true) or system (false) descriptor
 * @param l        L bit: 64-bit code segment
 * @param g        G bit: limit counted in 4 KiB units in the descriptor
 * @param unusable KVM's "unusable" flag (for the null LDT)
 */
public record Segment(int selector, long base, long limit, int type, boolean present, int dpl,
                      boolean db, boolean s, boolean l, boolean g, boolean unusable) {

    /** Flat 4 GiB code segment: 64-bit if {@code longMode}, else 32-bit. */
    static Segment flatCode(int selector, boolean longMode) {
        return new Segment(selector, 0, 0xFFFF_FFFFL, 0xB, true, 0, !longMode, true, longMode, true, false);
    }

    /** Flat 4 GiB read/write data segment. */
    static Segment flatData(int selector) {
        return new Segment(selector, 0, 0xFFFF_FFFFL, 0x3, true, 0, true, true, false, true, false);
    }

    /** A busy TSS at base 0, limit 0x67: what PVH requires and what KVM accepts in long mode. */
    static Segment bootTss(int selector) {
        return new Segment(selector, 0, 0x67, 0xB, true, 0, false, false, false, false, false);
    }

    /** No LDT. */
    static Segment nullLdt() {
        return new Segment(0, 0, 0, 0x2, false, 0, false, false, false, false, true);
    }

    /**
     * The low 8 bytes of this segment's GDT descriptor (a system descriptor in long mode takes
     * 16 bytes; its upper half holds base bits 63:32, which are 0 here).
     */
    long descriptor() {
        long lim = g ? limit >>> 12 : limit;
        long access = type | (s ? 0x10 : 0) | ((long) dpl << 5) | (present ? 0x80 : 0);
        long flags = (l ? 0x2 : 0) | (db ? 0x4 : 0) | (g ? 0x8 : 0);
        return (lim & 0xFFFF)
                | ((base & 0xFF_FFFFL) << 16)
                | (access << 40)
                | (((lim >>> 16) & 0xF) << 48)
                | (flags << 52)
                | (((base >>> 24) & 0xFF) << 56);
    }
}
