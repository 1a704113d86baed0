package io.jremus.cli.cluster;

/** Exit status and output of a command run inside a cluster node ({@link PacemakerCluster#exec}). */
public record ExecResult(int status, String stdout, String stderr) {
    /** Status when the command did not finish within its timeout (it was killed). */
    public static final int TIMED_OUT = -1;

    public boolean ok() {
        return status == 0;
    }

    /** stdout, then stderr if any: for error messages. */
    public String output() {
        String out = stdout.strip();
        String err = stderr.strip();
        if (err.isEmpty()) return out;
        return out.isEmpty() ? err : out + "\n" + err;
    }
}
