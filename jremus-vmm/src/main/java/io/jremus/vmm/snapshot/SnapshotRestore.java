package io.jremus.vmm.snapshot;

import io.jremus.vmm.Vm;
import io.jremus.vmm.config.ConfigException;
import io.jremus.vmm.config.ConfigOverrides;
import io.jremus.vmm.config.VmConfig;
import io.jremus.vmm.config.VmConfigLoader;
import io.jremus.vmm.snapshot.format.SnapshotChain;

import java.nio.file.Path;

/**
 * Restores a VM from a snapshot file (and, for a DIFF, its ancestors beside it): opens and
 * validates the whole chain, picks the config (the given one, else the one recorded in the
 * snapshot with {@code overrides} applied), checks they fit, and builds the VM paused, ready to
 * {@link Vm#start}. Nothing is created before every header and state record has been accepted.
 */
public final class SnapshotRestore {
    private SnapshotRestore() {
    }

    /**
     * @param config    the VM's config, or null to use the snapshot's own
     * @param overrides applied to the snapshot's config when {@code config} is null (e.g. --serial)
     */
    public static Vm restore(Path latest, VmConfig config, ConfigOverrides overrides, Vm.Options options,
                             SnapshotProgress progress) throws SnapshotException {
        try (SnapshotChain chain = SnapshotChain.open(latest)) {
            VmConfig cfg = config != null ? config : recordedConfig(chain, overrides);
            chain.withProgress(progress);
            return Vm.restore(cfg, chain.state(), chain, options);
        }
    }

    /** The config recorded in the snapshot (paths in it are absolute), with {@code overrides}. */
    public static VmConfig recordedConfig(SnapshotChain chain, ConfigOverrides overrides) throws SnapshotException {
        try {
            VmConfig c = VmConfigLoader.parse(chain.configToml(), Path.of("/"), chain.files().getLast().path() + " (CONFIG record)");
            return overrides == null ? c : c.withOverrides(overrides, Path.of("").toAbsolutePath());
        } catch (ConfigException e) {
            throw new SnapshotException(SnapshotException.Kind.MISMATCH, "the config recorded in the snapshot cannot be used here: " + e.getMessage(), e);
        }
    }
}
