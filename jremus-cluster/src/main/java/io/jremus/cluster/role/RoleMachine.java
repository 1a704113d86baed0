package io.jremus.cluster.role;

import static io.jremus.cluster.role.ReplicationRole.*;

/**
 * The failure-handling state machine as one pure function: (state, event) → (state, action).
 * No clock, no I/O: {@link FailoverAgent} turns time and arbiter answers into events and carries
 * out the actions. Events that mean nothing in a state leave it unchanged with no action.
 *
 * <p>The rules that keep one active instance (ARCHITECTURE.md §2 invariant 5):
 * <ul>
 *   <li>only {@link RoleEvent#GRANTED} leads to {@link RoleAction#GO_ALONE} or
 *       {@link RoleAction#TAKE_OVER} (a backup's {@code TAKEOVER_DONE} only follows a grant);</li>
 *   <li>{@link RoleEvent#REFUSED} ends every state that asked in {@link ReplicationRole#STOPPED_REFUSED},
 *       which ignores everything;</li>
 *   <li>a backup stops acknowledging before it asks, and a grant that arrives late (after the
 *       primary came back) is still honoured: the primary will be refused;</li>
 *   <li>a node acting alone that loses its lease holds output again before it asks.</li>
 * </ul>
 */
public final class RoleMachine {
    private RoleMachine() {
    }

    /** The outcome of one event. */
    public record Transition(ReplicationRole to, RoleAction action) {
        static Transition stay(ReplicationRole s) {
            return new Transition(s, RoleAction.NONE);
        }
    }

    public static Transition next(ReplicationRole s, RoleEvent e) {
        return switch (s) {
            case SEEDING -> e == RoleEvent.SEED_COMPLETE ? go(PROTECTED, RoleAction.NONE) : Transition.stay(s);
            case PROTECTED -> e == RoleEvent.PEER_LOST ? go(ARBITRATING, RoleAction.ASK_ACTIVE) : Transition.stay(s);
            case ARBITRATING -> switch (e) {
                case GRANTED -> go(ACTIVE_UNPROTECTED, RoleAction.GO_ALONE);
                case REFUSED -> go(STOPPED_REFUSED, RoleAction.STOP);
                case BUSY, UNREACHABLE -> go(ARBITRATING, RoleAction.WAIT_RETRY);
                case RETRY_DUE -> go(ARBITRATING, RoleAction.ASK_ACTIVE);
                // The backup coming back changes nothing: a grant may be on its way, and the
                // answer decides (the backup will be reseeded if this node goes alone).
                default -> Transition.stay(s);
            };
            case ACTIVE_UNPROTECTED -> switch (e) {
                case RENEW_DUE, RETRY_DUE -> go(ACTIVE_UNPROTECTED, RoleAction.ASK_ACTIVE);
                case BUSY, UNREACHABLE -> go(ACTIVE_UNPROTECTED, RoleAction.WAIT_RETRY);
                case REFUSED -> go(STOPPED_REFUSED, RoleAction.STOP);
                case LEASE_EXPIRED -> go(ARBITRATING, RoleAction.HOLD_OUTPUT_AND_ASK);
                default -> Transition.stay(s); // GRANTED: renewed
            };
            case STOPPED_REFUSED -> Transition.stay(s);
            case BACKUP_SEEDING -> e == RoleEvent.SEED_COMPLETE ? go(BACKUP_WAITING, RoleAction.NONE) : Transition.stay(s);
            case BACKUP_WAITING -> switch (e) {
                case PEER_LOST -> go(BACKUP_ARBITRATING, RoleAction.STOP_ACKING_AND_ASK);
                case GRANTED -> go(TAKING_OVER, RoleAction.TAKE_OVER); // a late answer to an earlier ask
                case REFUSED -> go(STOPPED_REFUSED, RoleAction.STOP);  // a late answer: the image is stale
                default -> Transition.stay(s);
            };
            case BACKUP_ARBITRATING -> switch (e) {
                case GRANTED -> go(TAKING_OVER, RoleAction.TAKE_OVER);
                case REFUSED -> go(STOPPED_REFUSED, RoleAction.STOP);
                case BUSY, UNREACHABLE -> go(BACKUP_ARBITRATING, RoleAction.WAIT_RETRY);
                case RETRY_DUE -> go(BACKUP_ARBITRATING, RoleAction.ASK_ACTIVE);
                case PEER_BACK -> go(BACKUP_WAITING, RoleAction.RESUME_ACKING);
                default -> Transition.stay(s);
            };
            case TAKING_OVER -> switch (e) {
                case TAKEOVER_DONE -> go(ACTIVE_UNPROTECTED, RoleAction.GO_ALONE);
                case RENEW_DUE, RETRY_DUE -> go(TAKING_OVER, RoleAction.ASK_ACTIVE);
                case BUSY, UNREACHABLE -> go(TAKING_OVER, RoleAction.WAIT_RETRY);
                case REFUSED -> go(STOPPED_REFUSED, RoleAction.STOP);
                // Restoring took longer than the lease: do not resume on a dead lease.
                case LEASE_EXPIRED -> go(ARBITRATING, RoleAction.HOLD_OUTPUT_AND_ASK);
                default -> Transition.stay(s);
            };
        };
    }

    private static Transition go(ReplicationRole to, RoleAction a) {
        return new Transition(to, a);
    }
}
