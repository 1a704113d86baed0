package io.jremus.vmm.devices;

import java.util.ArrayList;
import java.util.List;

/** An InterruptLine that remembers its level and every change driven onto it. */
public final class RecordingLine implements InterruptLine {
    public final List<Boolean> history = new ArrayList<>();
    private volatile boolean level;

    @Override
    public synchronized void set(boolean level) {
        this.level = level;
        history.add(level);
    }

    public boolean level() {
        return level;
    }
}
