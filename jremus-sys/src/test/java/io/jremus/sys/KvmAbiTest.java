package io.jremus.sys;

import io.jremus.sys.kvm.KvmConstants;
import io.jremus.sys.kvm.KvmIoctls;
import io.jremus.sys.kvm.KvmStructs;
import io.jremus.sys.tun.TunConstants;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Proves every hand-written ioctl number, struct size, field offset and constant in jremus-sys
 * against the kernel headers: generates a C program that prints each value as the compiler
 * sees it, compiles it with the machine's gcc and compares. A constant added in Java without a
 * C expression here fails {@link #shouldCheckEveryPublicConstant}.
 */
class KvmAbiTest {
    /** Java constant name → C expression. */
    private static final Map<String, String> C_EXPRESSIONS = new LinkedHashMap<>();
    private static Map<String, Long> fromC;

    static {
        // ioctl numbers: the Java name is the C macro name.
        for (Field f : KvmIoctls.class.getFields()) {
            if (f.getName().startsWith("KVM_")) C_EXPRESSIONS.put("KvmIoctls." + f.getName(), f.getName());
        }
        C_EXPRESSIONS.put("KvmIoctls.KVMIO", "KVMIO");
        for (Field f : KvmConstants.class.getFields()) {
            String c = switch (f.getName()) {
                case "KVM_PIT_SPEAKER_DUMMY" -> "KVM_PIT_SPEAKER_DUMMY";
                default -> f.getName();
            };
            C_EXPRESSIONS.put("KvmConstants." + f.getName(), c);
        }
        for (Field f : TunConstants.class.getFields()) {
            String c = switch (f.getName()) {
                case "IFREQ_SIZE" -> "sizeof(struct ifreq)";
                case "IFREQ_FLAGS" -> "offsetof(struct ifreq, ifr_flags)";
                default -> f.getName();
            };
            C_EXPRESSIONS.put("TunConstants." + f.getName(), c);
        }
        Map<String, String> s = new LinkedHashMap<>();
        s.put("KVM_REGS_SIZE", "sizeof(struct kvm_regs)");
        s.put("KVM_SREGS_SIZE", "sizeof(struct kvm_sregs)");
        s.put("KVM_SEGMENT_SIZE", "sizeof(struct kvm_segment)");
        s.put("KVM_DTABLE_SIZE", "sizeof(struct kvm_dtable)");
        s.put("KVM_USERSPACE_MEMORY_REGION_SIZE", "sizeof(struct kvm_userspace_memory_region)");
        s.put("KVM_DIRTY_LOG_SIZE", "sizeof(struct kvm_dirty_log)");
        s.put("KVM_CLEAR_DIRTY_LOG_SIZE", "sizeof(struct kvm_clear_dirty_log)");
        s.put("KVM_PIT_CONFIG_SIZE", "sizeof(struct kvm_pit_config)");
        s.put("KVM_IRQ_LEVEL_SIZE", "sizeof(struct kvm_irq_level)");
        s.put("KVM_CPUID2_HEADER_SIZE", "sizeof(struct kvm_cpuid2)");
        s.put("KVM_CPUID_ENTRY2_SIZE", "sizeof(struct kvm_cpuid_entry2)");
        s.put("KVM_MSRS_HEADER_SIZE", "sizeof(struct kvm_msrs)");
        s.put("KVM_MSR_ENTRY_SIZE", "sizeof(struct kvm_msr_entry)");
        s.put("KVM_MSR_LIST_HEADER_SIZE", "sizeof(struct kvm_msr_list)");
        s.put("KVM_SIGNAL_MASK_HEADER_SIZE", "sizeof(struct kvm_signal_mask)");
        s.put("KVM_FPU_SIZE", "sizeof(struct kvm_fpu)");
        s.put("KVM_LAPIC_STATE_SIZE", "sizeof(struct kvm_lapic_state)");
        s.put("KVM_XSAVE_SIZE", "sizeof(struct kvm_xsave)");
        s.put("KVM_XCRS_SIZE", "sizeof(struct kvm_xcrs)");
        s.put("KVM_MP_STATE_SIZE", "sizeof(struct kvm_mp_state)");
        s.put("KVM_VCPU_EVENTS_SIZE", "sizeof(struct kvm_vcpu_events)");
        s.put("KVM_DEBUGREGS_SIZE", "sizeof(struct kvm_debugregs)");
        s.put("KVM_CLOCK_DATA_SIZE", "sizeof(struct kvm_clock_data)");
        s.put("KVM_IRQCHIP_SIZE", "sizeof(struct kvm_irqchip)");
        s.put("KVM_PIT_STATE2_SIZE", "sizeof(struct kvm_pit_state2)");
        s.put("KVM_IRQFD_SIZE", "sizeof(struct kvm_irqfd)");
        s.put("KVM_IOEVENTFD_SIZE", "sizeof(struct kvm_ioeventfd)");
        s.put("KVM_MSI_SIZE", "sizeof(struct kvm_msi)");
        s.put("KVM_ENABLE_CAP_SIZE", "sizeof(struct kvm_enable_cap)");
        s.put("MEMREGION_SLOT", "offsetof(struct kvm_userspace_memory_region, slot)");
        s.put("MEMREGION_FLAGS", "offsetof(struct kvm_userspace_memory_region, flags)");
        s.put("MEMREGION_GUEST_PHYS_ADDR", "offsetof(struct kvm_userspace_memory_region, guest_phys_addr)");
        s.put("MEMREGION_MEMORY_SIZE", "offsetof(struct kvm_userspace_memory_region, memory_size)");
        s.put("MEMREGION_USERSPACE_ADDR", "offsetof(struct kvm_userspace_memory_region, userspace_addr)");
        s.put("DIRTY_LOG_SLOT", "offsetof(struct kvm_dirty_log, slot)");
        s.put("DIRTY_LOG_BITMAP", "offsetof(struct kvm_dirty_log, dirty_bitmap)");
        s.put("CLEAR_DIRTY_LOG_SLOT", "offsetof(struct kvm_clear_dirty_log, slot)");
        s.put("CLEAR_DIRTY_LOG_NUM_PAGES", "offsetof(struct kvm_clear_dirty_log, num_pages)");
        s.put("CLEAR_DIRTY_LOG_FIRST_PAGE", "offsetof(struct kvm_clear_dirty_log, first_page)");
        s.put("CLEAR_DIRTY_LOG_BITMAP", "offsetof(struct kvm_clear_dirty_log, dirty_bitmap)");
        s.put("IRQ_LEVEL_IRQ", "offsetof(struct kvm_irq_level, irq)");
        s.put("IRQ_LEVEL_LEVEL", "offsetof(struct kvm_irq_level, level)");
        s.put("PIT_CONFIG_FLAGS", "offsetof(struct kvm_pit_config, flags)");
        for (String f : List.of("function", "index", "flags", "eax", "ebx", "ecx", "edx")) {
            s.put("CPUID_ENTRY_" + f.toUpperCase(), "offsetof(struct kvm_cpuid_entry2, " + f + ")");
        }
        s.put("MSR_ENTRY_INDEX", "offsetof(struct kvm_msr_entry, index)");
        s.put("MSR_ENTRY_DATA", "offsetof(struct kvm_msr_entry, data)");
        for (String f : List.of("cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt", "gdt", "idt", "cr0", "cr2", "cr3", "cr4",
                "cr8", "efer", "apic_base", "interrupt_bitmap")) {
            s.put("SREGS_" + f.toUpperCase(), "offsetof(struct kvm_sregs, " + f + ")");
        }
        for (String f : List.of("base", "limit", "selector", "type", "present", "dpl", "db", "s", "l", "g", "avl", "unusable")) {
            s.put("SEGMENT_" + f.toUpperCase(), "offsetof(struct kvm_segment, " + f + ")");
        }
        s.put("DTABLE_BASE", "offsetof(struct kvm_dtable, base)");
        s.put("DTABLE_LIMIT", "offsetof(struct kvm_dtable, limit)");
        for (String f : List.of("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp", "r8", "rip", "rflags")) {
            s.put("REGS_" + f.toUpperCase(), "offsetof(struct kvm_regs, " + f + ")");
        }
        s.put("RUN_REQUEST_INTERRUPT_WINDOW", "offsetof(struct kvm_run, request_interrupt_window)");
        s.put("RUN_IMMEDIATE_EXIT", "offsetof(struct kvm_run, immediate_exit)");
        s.put("RUN_EXIT_REASON", "offsetof(struct kvm_run, exit_reason)");
        s.put("RUN_READY_FOR_INTERRUPT_INJECTION", "offsetof(struct kvm_run, ready_for_interrupt_injection)");
        s.put("RUN_IF_FLAG", "offsetof(struct kvm_run, if_flag)");
        s.put("RUN_IO_DIRECTION", "offsetof(struct kvm_run, io.direction)");
        s.put("RUN_IO_SIZE", "offsetof(struct kvm_run, io.size)");
        s.put("RUN_IO_PORT", "offsetof(struct kvm_run, io.port)");
        s.put("RUN_IO_COUNT", "offsetof(struct kvm_run, io.count)");
        s.put("RUN_IO_DATA_OFFSET", "offsetof(struct kvm_run, io.data_offset)");
        s.put("RUN_MMIO_PHYS_ADDR", "offsetof(struct kvm_run, mmio.phys_addr)");
        s.put("RUN_MMIO_DATA", "offsetof(struct kvm_run, mmio.data)");
        s.put("RUN_MMIO_LEN", "offsetof(struct kvm_run, mmio.len)");
        s.put("RUN_MMIO_IS_WRITE", "offsetof(struct kvm_run, mmio.is_write)");
        s.put("RUN_SYSTEM_EVENT_TYPE", "offsetof(struct kvm_run, system_event.type)");
        s.put("RUN_INTERNAL_SUBERROR", "offsetof(struct kvm_run, internal.suberror)");
        s.put("RUN_INTERNAL_NDATA", "offsetof(struct kvm_run, internal.ndata)");
        s.put("RUN_INTERNAL_DATA", "offsetof(struct kvm_run, internal.data)");
        s.put("RUN_FAIL_ENTRY_REASON", "offsetof(struct kvm_run, fail_entry.hardware_entry_failure_reason)");
        s.put("RUN_EX_EXCEPTION", "offsetof(struct kvm_run, ex.exception)");
        s.put("RUN_EX_ERROR_CODE", "offsetof(struct kvm_run, ex.error_code)");
        s.put("IRQFD_FD", "offsetof(struct kvm_irqfd, fd)");
        s.put("IRQFD_GSI", "offsetof(struct kvm_irqfd, gsi)");
        s.put("IRQFD_FLAGS", "offsetof(struct kvm_irqfd, flags)");
        s.put("IRQFD_RESAMPLEFD", "offsetof(struct kvm_irqfd, resamplefd)");
        s.put("IOEVENTFD_DATAMATCH", "offsetof(struct kvm_ioeventfd, datamatch)");
        s.put("IOEVENTFD_ADDR", "offsetof(struct kvm_ioeventfd, addr)");
        s.put("IOEVENTFD_LEN", "offsetof(struct kvm_ioeventfd, len)");
        s.put("IOEVENTFD_FD", "offsetof(struct kvm_ioeventfd, fd)");
        s.put("IOEVENTFD_FLAGS", "offsetof(struct kvm_ioeventfd, flags)");
        s.put("CLOCK_DATA_CLOCK", "offsetof(struct kvm_clock_data, clock)");
        s.put("CLOCK_DATA_FLAGS", "offsetof(struct kvm_clock_data, flags)");
        s.put("CLOCK_DATA_REALTIME", "offsetof(struct kvm_clock_data, realtime)");
        s.put("CLOCK_DATA_HOST_TSC", "offsetof(struct kvm_clock_data, host_tsc)");
        s.put("ENABLE_CAP_CAP", "offsetof(struct kvm_enable_cap, cap)");
        s.put("ENABLE_CAP_FLAGS", "offsetof(struct kvm_enable_cap, flags)");
        s.put("ENABLE_CAP_ARGS", "offsetof(struct kvm_enable_cap, args)");
        s.put("IRQCHIP_CHIP_ID", "offsetof(struct kvm_irqchip, chip_id)");
        s.put("IRQCHIP_CHIP", "offsetof(struct kvm_irqchip, chip)");
        s.forEach((k, v) -> C_EXPRESSIONS.put("KvmStructs." + k, v));
        C_EXPRESSIONS.put("SignalSet.GLIBC_SIZE", "sizeof(sigset_t)");
        C_EXPRESSIONS.put("Errno.EINTR", "EINTR");
        C_EXPRESSIONS.put("Errno.EAGAIN", "EAGAIN");
        C_EXPRESSIONS.put("Errno.E2BIG", "E2BIG");
        C_EXPRESSIONS.put("Errno.EINVAL", "EINVAL");
        C_EXPRESSIONS.put("Errno.ENOENT", "ENOENT");
        C_EXPRESSIONS.put("Errno.EACCES", "EACCES");
        C_EXPRESSIONS.put("Libc.O_CLOEXEC", "O_CLOEXEC");
        C_EXPRESSIONS.put("Libc.O_NONBLOCK", "O_NONBLOCK");
        C_EXPRESSIONS.put("Libc.MAP_NORESERVE", "MAP_NORESERVE");
        C_EXPRESSIONS.put("Libc.MAP_ANONYMOUS", "MAP_ANONYMOUS");
        C_EXPRESSIONS.put("Libc.EFD_NONBLOCK", "EFD_NONBLOCK");
        C_EXPRESSIONS.put("Libc.EFD_CLOEXEC", "EFD_CLOEXEC");
        C_EXPRESSIONS.put("Libc.MFD_CLOEXEC", "MFD_CLOEXEC");
        C_EXPRESSIONS.put("Libc.MADV_DONTNEED", "MADV_DONTNEED");
        C_EXPRESSIONS.put("Libc.MADV_HUGEPAGE", "MADV_HUGEPAGE");
        C_EXPRESSIONS.put("Libc.SIG_BLOCK", "SIG_BLOCK");
        C_EXPRESSIONS.put("Libc.SIG_SETMASK", "SIG_SETMASK");
    }

    @BeforeAll
    static void compileAndRunProbe(@TempDir Path dir) throws Exception {
        assumeTrue(onPath("gcc"), "gcc is not installed: cannot compile the ABI probe against linux/kvm.h");
        assumeTrue(Files.exists(Path.of("/usr/include/linux/kvm.h")),
                "linux/kvm.h is missing (install linux-libc-dev): cannot check the KVM ABI");
        StringBuilder c = new StringBuilder("""
                #define _GNU_SOURCE
                #include <stdio.h>
                #include <stddef.h>
                #include <errno.h>
                #include <fcntl.h>
                #include <signal.h>
                #include <sys/mman.h>
                #include <sys/eventfd.h>
                #include <net/if.h>
                #include <linux/kvm.h>
                #include <linux/if_tun.h>
                int main(void) {
                """);
        for (var e : C_EXPRESSIONS.entrySet()) {
            c.append("  printf(\"%s %lld\\n\", \"").append(e.getKey()).append("\", (long long)(").append(e.getValue()).append("));\n");
        }
        c.append("  return 0;\n}\n");
        Path src = dir.resolve("abi.c");
        Path exe = dir.resolve("abi");
        Files.writeString(src, c);
        run(List.of("gcc", "-o", exe.toString(), src.toString()));
        fromC = new LinkedHashMap<>();
        for (String line : run(List.of(exe.toString())).split("\n")) {
            String[] kv = line.trim().split(" ");
            if (kv.length == 2) fromC.put(kv[0], Long.parseLong(kv[1]));
        }
    }

    @Test
    void shouldMatchKernelHeadersForEveryIoctlStructAndConstant() throws Exception {
        List<String> mismatches = new ArrayList<>();
        for (String key : C_EXPRESSIONS.keySet()) {
            long java = javaValue(key);
            Long c = fromC.get(key);
            if (c == null || c != java) {
                mismatches.add(key + ": java=0x" + Long.toHexString(java) + " C=" + (c == null ? "missing" : "0x" + Long.toHexString(c)));
            }
        }
        assertThat(mismatches).isEmpty();
        assertThat(fromC).hasSize(C_EXPRESSIONS.size());
    }

    @Test
    void shouldCheckEveryPublicConstant() {
        List<String> unchecked = new ArrayList<>();
        for (Class<?> k : List.of(KvmIoctls.class, KvmConstants.class, KvmStructs.class, TunConstants.class)) {
            for (Field f : k.getFields()) {
                if (Modifier.isStatic(f.getModifiers()) && !C_EXPRESSIONS.containsKey(k.getSimpleName() + "." + f.getName())) {
                    unchecked.add(k.getSimpleName() + "." + f.getName());
                }
            }
        }
        assertThat(unchecked).as("constants without a C expression in KvmAbiTest").isEmpty();
    }

    @Test
    void shouldEncodeIoctlNumbersLikeTheKernelMacros() {
        // _IOR(KVMIO, 0x81, struct kvm_regs) as documented in the shared notes.
        assertThat(Ioctl.ior(0xAE, 0x81, 144)).isEqualTo(0x8090ae81L);
        assertThat(KvmIoctls.KVM_SET_SIGNAL_MASK).isEqualTo(0x4004ae8bL);
    }

    private static long javaValue(String key) throws Exception {
        String[] parts = key.split("\\.");
        Class<?> k = switch (parts[0]) {
            case "KvmIoctls" -> KvmIoctls.class;
            case "KvmConstants" -> KvmConstants.class;
            case "KvmStructs" -> KvmStructs.class;
            case "TunConstants" -> TunConstants.class;
            case "SignalSet" -> SignalSet.class;
            case "Errno" -> Errno.class;
            case "Libc" -> Libc.class;
            default -> throw new IllegalArgumentException(key);
        };
        return ((Number) k.getField(parts[1]).get(null)).longValue();
    }

    private static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(d, tool))) return true;
        }
        return false;
    }

    private static String run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed:\n" + out);
        }
        return out;
    }
}
