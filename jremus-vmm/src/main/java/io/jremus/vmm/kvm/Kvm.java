package io.jremus.vmm.kvm;

import io.jremus.sys.Errno;
import io.jremus.sys.ErrnoException;
import io.jremus.sys.Libc;
import io.jremus.sys.kvm.KvmConstants;
import io.jremus.vmm.VmmException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

import static io.jremus.sys.kvm.KvmIoctls.*;
import static io.jremus.sys.kvm.KvmStructs.*;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The {@code /dev/kvm} system fd: capability queries and VM creation. First of the fd
 * hierarchy {@code Kvm → KvmVm → KvmVcpu}, each an {@link AutoCloseable} owning one fd.
 */
public final class Kvm implements AutoCloseable {
    public static final Path DEVICE = Path.of("/dev/kvm");

    private final int fd;

    private Kvm(int fd) {
        this.fd = fd;
    }

    /** Opens /dev/kvm, turning the usual host problems into one clear sentence. */
    public static Kvm open() {
        return open(DEVICE);
    }

    /** Opens the KVM device at {@code device} (a parameter so tests can point at the wrong thing). */
    public static Kvm open(Path device) {
        if (!Files.exists(device)) {
            throw new VmmException(VmmException.Kind.HOST, "KVM is not available: " + device
                    + " does not exist (load kvm_intel or kvm_amd, or run on a host with virtualization enabled)");
        }
        int fd;
        try {
            fd = Libc.open(device.toString(), Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        } catch (ErrnoException e) {
            if (e.errno() == Errno.EACCES || e.errno() == Errno.EPERM) {
                throw new VmmException(VmmException.Kind.HOST, "no permission to open " + device
                        + ": run as root or add this user to the 'kvm' group", e);
            }
            throw new VmmException(VmmException.Kind.HOST, "cannot open " + device + ": " + e.getMessage(), e);
        }
        Kvm kvm = new Kvm(fd);
        int api = Libc.ioctlRaw(Libc.captureSegment(), fd, KVM_GET_API_VERSION, 0L);
        if (api != KvmConstants.KVM_API_VERSION) {
            kvm.close();
            throw new VmmException(VmmException.Kind.HOST, api < 0
                    ? device + " is not a KVM device (KVM_GET_API_VERSION failed: " + Errno.describe(Libc.errno()) + ")"
                    : "unsupported KVM API version " + api + " at " + device + " (need 12)");
        }
        return kvm;
    }

    /** Whether a KVM device node exists and can be opened (for test skips). */
    public static boolean available() {
        if (!Files.isReadable(DEVICE) || !Files.isWritable(DEVICE)) return false;
        try (Kvm ignored = open()) {
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    public int fd() {
        return fd;
    }

    /** {@code KVM_CHECK_EXTENSION}: 0 when absent, otherwise a capability-specific value. */
    public int checkExtension(int cap) {
        return Libc.ioctl(fd, KVM_CHECK_EXTENSION, cap, "KVM_CHECK_EXTENSION(" + cap + ")");
    }

    public int vcpuMmapSize() {
        return Libc.ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0L, "KVM_GET_VCPU_MMAP_SIZE");
    }

    /** Highest number of vCPUs KVM recommends per VM. */
    public int maxVcpus() {
        int n = checkExtension(KvmConstants.KVM_CAP_MAX_VCPUS);
        return n > 0 ? n : Math.max(4, checkExtension(KvmConstants.KVM_CAP_NR_VCPUS));
    }

    /**
     * {@code KVM_GET_SUPPORTED_CPUID}, retrying with a larger buffer on E2BIG. Returns a
     * {@code struct kvm_cpuid2} allocated in {@code arena}, ready for {@code KVM_SET_CPUID2}.
     */
    public MemorySegment supportedCpuid(Arena arena) {
        for (int n = 64; n <= 4096; n *= 2) {
            MemorySegment c = arena.allocate(KVM_CPUID2_HEADER_SIZE + n * KVM_CPUID_ENTRY2_SIZE, 8);
            c.set(JAVA_INT, 0, n);
            int rc = Libc.ioctlRaw(Libc.captureSegment(), fd, KVM_GET_SUPPORTED_CPUID, c);
            if (rc >= 0) return c;
            int errno = Libc.errno();
            if (errno != Errno.E2BIG) throw new ErrnoException("KVM_GET_SUPPORTED_CPUID", errno);
        }
        throw new VmmException(VmmException.Kind.HOST, "KVM_GET_SUPPORTED_CPUID: more than 4096 entries");
    }

    /** {@code KVM_GET_MSR_INDEX_LIST}: the MSRs KVM saves and restores. */
    public int[] msrIndexList() {
        try (Arena a = Arena.ofConfined()) {
            for (int n = 256; n <= 65536; n *= 2) {
                MemorySegment l = a.allocate(KVM_MSR_LIST_HEADER_SIZE + 4L * n, 4);
                l.set(JAVA_INT, 0, n);
                int rc = Libc.ioctlRaw(Libc.captureSegment(), fd, KVM_GET_MSR_INDEX_LIST, l);
                if (rc >= 0) {
                    int count = l.get(JAVA_INT, 0);
                    int[] out = new int[count];
                    for (int i = 0; i < count; i++) out[i] = l.get(JAVA_INT, 4 + 4L * i);
                    return out;
                }
                if (Libc.errno() != Errno.E2BIG) throw new ErrnoException("KVM_GET_MSR_INDEX_LIST", Libc.errno());
            }
        }
        throw new VmmException(VmmException.Kind.HOST, "KVM_GET_MSR_INDEX_LIST: list too long");
    }

    public KvmVm createVm() {
        int vmFd = Libc.ioctl(fd, KVM_CREATE_VM, 0L, "KVM_CREATE_VM");
        return new KvmVm(this, vmFd);
    }

    @Override
    public void close() {
        Libc.close(fd);
    }
}
