package io.jremus.vmm.devices;

import java.util.ArrayList;
import java.util.List;

/** A PowerControl that remembers what the guest asked for. */
public final class RecordingPower implements PowerControl {
    public final List<Integer> powerOffs = new ArrayList<>();
    public int resets;

    @Override
    public void powerOff(int exitCode) {
        powerOffs.add(exitCode);
    }

    @Override
    public void reset() {
        resets++;
    }
}
