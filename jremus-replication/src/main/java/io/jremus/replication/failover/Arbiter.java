package io.jremus.replication.failover;

import java.time.Duration;

/**
 * What a primary or a backup asks before it acts alone. One implementation is the witness
 * service ({@code io.jremus.cluster.witness.WitnessClient}); Pacemaker can be another.
 *
 * <h2>What the arbiter keeps, per VM</h2>
 * A <b>term</b> (a number that only grows, never reissued, also across arbiter restarts), the
 * <b>holder</b> node (or none), the holder's {@link Role} ({@code PRIMARY} or {@code ACTIVE}),
 * and a <b>lease expiry</b>: the arbiter's clock at the holder's last granted request plus the
 * lease duration {@code L}.
 *
 * <h2>Rules for {@code request(vm, node, wanted, knownTerm, timeout)}, in order</h2>
 * <ol>
 *   <li>{@code knownTerm} greater than the arbiter's term: {@code REFUSED} (the arbiter lost
 *       its state; it never guesses).</li>
 *   <li>{@code STANDBY}: if {@code node} is the holder, the grant is released (holder none,
 *       term kept); either way {@code GRANTED} with the term and holder after the request.
 *       Also the way to <em>read</em> the current term.</li>
 *   <li>{@code node} is the holder: {@code GRANTED}; the lease is renewed. The term is kept if
 *       {@code wanted} equals the held role (a repeated or renewing request keeps its term,
 *       even with an older {@code knownTerm}: a lost reply is harmless), and is increased by one
 *       if the role changes ({@code PRIMARY → ACTIVE}: a primary going alone;
 *       {@code ACTIVE → PRIMARY}: re-protection).</li>
 *   <li>{@code node} is not the holder and {@code knownTerm} is less than the term:
 *       {@code REFUSED} ("your image is stale: the VM moved on at term T").</li>
 *   <li>another node holds the VM and its lease has not expired: {@code BUSY}, with
 *       {@code retryAfter} = the time left on that lease.</li>
 *   <li>otherwise (no holder, or the holder's lease expired, and {@code knownTerm} is the
 *       term): {@code GRANTED} with term + 1; {@code node} becomes the holder.</li>
 * </ol>
 * Every change of term, holder or role is on stable storage before the answer leaves the
 * arbiter. A restarted arbiter treats every held lease as live for one more {@code L}.
 * <b>Renewal</b> is asking again in the held role; an {@code ACTIVE} holder renews at least
 * every {@code L/3}. The lease is granted for {@code L} from when the arbiter <em>receives</em>
 * the request; the holder counts it from when it <em>sent</em> the request
 * ({@link Grant#validUntil}), so the holder's lease always ends before the arbiter's does.
 *
 * <h2>The callers' rules</h2>
 * <ol type="a">
 *   <li>A backup may take over only after it has won arbitration: it first stops acknowledging
 *       checkpoints, then asks {@code ACTIVE} with the term its committed image belongs to, and
 *       restores and resumes only on {@code GRANTED}.</li>
 *   <li>A primary that cannot reach its backup keeps holding output (output commit already does
 *       so), asks {@code ACTIVE}, and releases output without acknowledgements only on
 *       {@code GRANTED}; on {@code REFUSED} it stops the VM for good and never releases the
 *       held output; on {@code BUSY}/{@code UNREACHABLE} it keeps holding and asks again.</li>
 *   <li>An {@code ACTIVE} node releases output only while its lease is valid on its own clock
 *       ({@link Grant#validUntil}); when it cannot renew in time it holds output again and asks
 *       again.</li>
 *   <li>A primary tags every checkpoint with the {@code PRIMARY} term it holds; a backup's image
 *       carries that tag, and that tag is the {@code knownTerm} of its takeover request. A
 *       primary asks {@code PRIMARY} (and gets a new term) before the first checkpoint of a new
 *       backup (re-protection).</li>
 * </ol>
 *
 * <h2>Why this gives invariant 5 (one active instance)</h2>
 * A protected primary releases only what its backup acknowledged, and a backup stops
 * acknowledging before it asks (rule a), so a protected primary never releases output alongside
 * its own backup once that backup acts. Two instances releasing output at once would therefore
 * be two nodes acting alone, each needing an {@code ACTIVE} grant whose lease is valid on its own
 * clock (rules b, c). The arbiter gives a grant to a second node only when the first node's
 * lease has expired on the arbiter's clock (rule 5), i.e. after it had already ended on the
 * first node's clock (rule c), and grants are decided
 * one at a time against one stored state. Stale images: a primary that goes alone changes role
 * and so increases the term (rule 3), after which the backup's image (tagged with the old term)
 * is refused for good (rule 4) — the backup cannot come back with state older than output the
 * primary released alone. When both sides race after a partition, whichever request the arbiter
 * decides first moves the term on, and the other is refused: exactly one wins.
 *
 * <p>Implementations are thread-safe. {@code request} never throws for a network problem: it
 * returns {@link Grant.Outcome#UNREACHABLE} within about {@code timeout}.
 */
public interface Arbiter {
    /**
     * Asks for {@code wanted} on {@code vmId} as {@code node}; see the class comment for the rules.
     *
     * @param knownTerm the term the caller's state belongs to (0 for a VM never held)
     * @param timeout   how long to wait for an answer before {@link Grant.Outcome#UNREACHABLE}
     */
    Grant request(String vmId, String node, Role wanted, long knownTerm, Duration timeout);

    /** The lease duration {@code L} this arbiter grants (so callers can plan renewals). */
    Duration lease();
}
