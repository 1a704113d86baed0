package io.jremus.cluster.witness;

import io.jremus.replication.failover.Grant;
import io.jremus.replication.failover.Role;

import java.time.Duration;
import java.util.regex.Pattern;

/**
 * The witness wire protocol (docs/witness.md): one request line, one answer line, ASCII, fields
 * separated by one space, lines at most {@value #MAX_LINE} bytes ending in {@code \n}.
 * <pre>
 * jrw1 req &lt;reqId&gt; &lt;vmId&gt; &lt;node&gt; &lt;role code&gt; &lt;knownTerm&gt;
 * jrw1 ans &lt;reqId&gt; &lt;outcome code&gt; &lt;term&gt; &lt;holder or -&gt; &lt;role code&gt; &lt;leaseMs&gt; &lt;retryAfterMs&gt; &lt;reason…&gt;
 * jrw1 err &lt;reqId or -&gt; &lt;reason…&gt;      (malformed request; the witness then closes the connection)
 * </pre>
 * Everything received is untrusted: each field is checked and a bad one is named in the error.
 */
public final class WitnessProtocol {
    public static final String MAGIC = "jrw1";
    public static final int MAX_LINE = 1024;
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

    private WitnessProtocol() {
    }

    /** A parsed request line. */
    public record Request(long reqId, String vmId, String node, Role role, long knownTerm) {
    }

    /** Returns {@code value} if it is a valid VM or node id; otherwise throws naming {@code what}. */
    public static String checkId(String what, String value) {
        if (value == null || !ID.matcher(value).matches()) {
            throw new IllegalArgumentException(what + " '" + printable(value) + "' is not 1..64 of [A-Za-z0-9._:-]");
        }
        return value;
    }

    public static String formatRequest(long reqId, String vmId, String node, Role role, long knownTerm) {
        checkId("vm id", vmId);
        checkId("node", node);
        if (knownTerm < 0) throw new IllegalArgumentException("negative known term " + knownTerm);
        return MAGIC + " req " + reqId + " " + vmId + " " + node + " " + role.code() + " " + knownTerm;
    }

    public static Request parseRequest(String line) {
        String[] f = line.split(" ", -1);
        if (f.length != 7 || !f[0].equals(MAGIC) || !f[1].equals("req")) {
            throw new IllegalArgumentException("expected '" + MAGIC + " req ID VM NODE ROLE TERM', got '" + printable(line) + "'");
        }
        long reqId = parseLong("request id", f[2]);
        String vm = checkId("vm id", f[3]);
        String node = checkId("node", f[4]);
        Role role = Role.ofCode((int) parseLong("role", f[5]));
        long term = parseLong("known term", f[6]);
        if (term < 0) throw new IllegalArgumentException("negative known term " + term);
        return new Request(reqId, vm, node, role, term);
    }

    public static String formatAnswer(long reqId, Grant g) {
        return MAGIC + " ans " + reqId + " " + g.outcome().code() + " " + g.term() + " " + (g.holder() == null ? "-" : g.holder())
                + " " + g.role().code() + " " + g.lease().toMillis() + " " + ceilMillis(g.retryAfter()) + " " + oneLine(g.reason());
    }

    /** Parses an answer line for {@code vmId}; throws if it is malformed or answers another request. */
    public static Grant parseAnswer(String line, long expectReqId, String vmId) {
        String[] f = line.split(" ", 10);
        if (f.length >= 3 && f[0].equals(MAGIC) && f[1].equals("err")) {
            throw new IllegalArgumentException("witness says: " + (f.length > 3 ? f[3] : "") + " (request " + f[2] + ")");
        }
        if (f.length < 9 || !f[0].equals(MAGIC) || !f[1].equals("ans")) {
            throw new IllegalArgumentException("not an answer line: '" + printable(line) + "'");
        }
        long reqId = parseLong("request id", f[2]);
        if (reqId != expectReqId) throw new IllegalArgumentException("answer to request " + reqId + ", expected " + expectReqId);
        Grant.Outcome o = Grant.Outcome.ofCode((int) parseLong("outcome", f[3]));
        long term = parseLong("term", f[4]);
        String holder = f[5].equals("-") ? null : checkId("holder", f[5]);
        Role role = Role.ofCode((int) parseLong("role", f[6]));
        Duration lease = Duration.ofMillis(parseLong("lease", f[7]));
        Duration retry = Duration.ofMillis(parseLong("retry after", f[8]));
        String reason = f.length > 9 ? f[9] : "";
        if (term < 0 || lease.isNegative() || retry.isNegative()) throw new IllegalArgumentException("negative value in '" + printable(line) + "'");
        return new Grant(o, vmId, term, holder, role, lease, retry, reason);
    }

    public static String formatError(Long reqId, String reason) {
        return MAGIC + " err " + (reqId == null ? "-" : reqId) + " " + oneLine(reason);
    }

    private static long parseLong(String what, String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " '" + printable(s) + "' is not a number");
        }
    }

    private static long ceilMillis(Duration d) {
        long n = d.toNanos();
        return (n + 999_999) / 1_000_000;
    }

    static String oneLine(String s) {
        String r = s.replaceAll("[\\r\\n]+", " ");
        return r.length() > 400 ? r.substring(0, 400) : r;
    }

    private static String printable(String s) {
        if (s == null) return "null";
        String t = s.length() > 80 ? s.substring(0, 80) + "…" : s;
        return t.replaceAll("[^\\x20-\\x7e]", "?");
    }
}
