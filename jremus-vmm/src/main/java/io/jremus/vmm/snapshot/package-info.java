/**
 * Whole-VM snapshot and restore: state records apart from behaviour ({@link
 * io.jremus.vmm.snapshot.VcpuState}, {@link io.jremus.vmm.snapshot.VmState}, {@link
 * io.jremus.vmm.snapshot.DeviceStates}), the KVM side that captures and applies them ({@link
 * io.jremus.vmm.snapshot.KvmStateIo}), and in {@code format} the versioned file format of
 * {@code docs/snapshot-format.md}.
 *
 * <h2>Entry points</h2>
 * <ul>
 *   <li>Capture (VM paused): {@code Vm.captureState()} → {@link io.jremus.vmm.snapshot.VmSnapshotState},
 *       next to {@code Vm.harvestDirtyPages()}; the replication layer calls both once per epoch.
 *       {@link io.jremus.vmm.snapshot.SnapshotSession} adds files: a FULL snapshot, then DIFFs.</li>
 *   <li>Restore: {@code Vm.restore(config, state, memoryImage, options)} builds a VM without
 *       booting, loads memory, then KVM and device state, and leaves it ready to {@code start()};
 *       {@link io.jremus.vmm.snapshot.SnapshotRestore} does it from a file or chain.</li>
 * </ul>
 *
 * <h2>Order of the KVM calls, and why</h2>
 * Save, per vCPU: {@code MP_STATE} first (reading it makes KVM process pending INIT/SIPI into
 * the LAPIC, so what follows is consistent with it), {@code REGS}, {@code SREGS}, {@code
 * XSAVE2}/{@code XSAVE} (or {@code FPU}), {@code XCRS}, {@code DEBUGREGS}, {@code LAPIC},
 * {@code CPUID2}, {@code MSRS}, and {@code VCPU_EVENTS} last (anything read before may have
 * queued an event). Per VM: {@code IRQCHIP} ×3 (PIC master, slave, IOAPIC), {@code PIT2},
 * {@code CLOCK}.
 * <p>Restore, into a VM whose vCPUs have never run: {@code PIT2} and {@code IRQCHIP} first (an
 * IOAPIC restore may deliver to LAPICs, which the per-vCPU LAPIC restore then overwrites with the
 * saved IRR); then per vCPU {@code CPUID2} (KVM derives the vCPU model, XSAVE layout and valid
 * MSRs from it, and refuses it after the first {@code KVM_RUN}) → {@code MP_STATE} → {@code REGS}
 * → {@code SREGS} (CR0/CR4/EFER and the APIC base) → {@code XSAVE} → {@code XCRS} → {@code
 * DEBUGREGS} → {@code LAPIC} (after SREGS: the APIC base decides its mode) → {@code MSRS} with
 * the TSC first and {@code TSC_DEADLINE} last (the deadline is compared against the TSC) →
 * {@code VCPU_EVENTS} last ({@code SET_REGS}/{@code SET_SREGS} clear pending exceptions). Then
 * {@code KVM_SET_CLOCK} with the saved kvmclock value (flags cleared, so KVM adds no elapsed
 * real time: guest time resumes where it stopped; the downtime is invisible to the guest's
 * monotonic clock), and {@code KVM_KVMCLOCK_CTRL} on every vCPU (the guest's watchdog then
 * ignores the stop). Memory is loaded before any of this, devices after (their queues are in
 * guest memory).
 *
 * <h2>What this host's KVM did (kvm_pvm, nested)</h2>
 * {@code KVM_CAP_XSAVE2} = 4096, so {@code KVM_GET_XSAVE2}; XCRS, DEBUGREGS, VCPU_EVENTS,
 * IRQCHIP, PIT2 and CLOCK all work; {@code KVM_GET_MSRS} accepted all 40 MSRs of the index list.
 * {@link io.jremus.vmm.snapshot.KvmStateIo} still probes each MSR and logs any it must skip:
 * an MSR {@code KVM_GET_MSRS} refuses is one the guest cannot read either.
 */
package io.jremus.vmm.snapshot;
