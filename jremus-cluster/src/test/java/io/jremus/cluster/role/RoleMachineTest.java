package io.jremus.cluster.role;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static io.jremus.cluster.role.ReplicationRole.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

class RoleMachineTest {
    private static final Set<RoleEvent> ANSWERS = EnumSet.of(RoleEvent.GRANTED, RoleEvent.BUSY, RoleEvent.REFUSED, RoleEvent.UNREACHABLE);
    private static final Set<RoleAction> ASKS = EnumSet.of(RoleAction.ASK_ACTIVE, RoleAction.STOP_ACKING_AND_ASK, RoleAction.HOLD_OUTPUT_AND_ASK);

    @Test
    void shouldHaveUniqueStableCodes() {
        assertThat(Arrays.stream(ReplicationRole.values()).map(ReplicationRole::code).distinct().count()).isEqualTo(ReplicationRole.values().length);
        assertThat(Arrays.stream(RoleEvent.values()).map(RoleEvent::code).distinct().count()).isEqualTo(RoleEvent.values().length);
        assertThat(Arrays.stream(RoleAction.values()).map(RoleAction::code).distinct().count()).isEqualTo(RoleAction.values().length);
        assertThat(PROTECTED.code()).isEqualTo(2);
        assertThat(ACTIVE_UNPROTECTED.code()).isEqualTo(4);
        assertThat(TAKING_OVER.code()).isEqualTo(13);
        for (ReplicationRole r : ReplicationRole.values()) assertThat(ReplicationRole.ofCode(r.code())).isEqualTo(r);
    }

    @Test
    void shouldFollowTheDocumentedPaths() {
        assertPath(SEEDING, List.of(RoleEvent.SEED_COMPLETE, RoleEvent.PEER_LOST, RoleEvent.GRANTED),
                List.of(PROTECTED, ARBITRATING, ACTIVE_UNPROTECTED), List.of(RoleAction.NONE, RoleAction.ASK_ACTIVE, RoleAction.GO_ALONE));
        assertPath(PROTECTED, List.of(RoleEvent.PEER_LOST, RoleEvent.REFUSED, RoleEvent.GRANTED),
                List.of(ARBITRATING, STOPPED_REFUSED, STOPPED_REFUSED), List.of(RoleAction.ASK_ACTIVE, RoleAction.STOP, RoleAction.NONE));
        assertPath(BACKUP_WAITING, List.of(RoleEvent.PEER_LOST, RoleEvent.BUSY, RoleEvent.RETRY_DUE, RoleEvent.GRANTED, RoleEvent.TAKEOVER_DONE),
                List.of(BACKUP_ARBITRATING, BACKUP_ARBITRATING, BACKUP_ARBITRATING, TAKING_OVER, ACTIVE_UNPROTECTED),
                List.of(RoleAction.STOP_ACKING_AND_ASK, RoleAction.WAIT_RETRY, RoleAction.ASK_ACTIVE, RoleAction.TAKE_OVER, RoleAction.GO_ALONE));
        assertPath(BACKUP_WAITING, List.of(RoleEvent.PEER_LOST, RoleEvent.UNREACHABLE, RoleEvent.PEER_BACK),
                List.of(BACKUP_ARBITRATING, BACKUP_ARBITRATING, BACKUP_WAITING),
                List.of(RoleAction.STOP_ACKING_AND_ASK, RoleAction.WAIT_RETRY, RoleAction.RESUME_ACKING));
        assertPath(ACTIVE_UNPROTECTED, List.of(RoleEvent.RENEW_DUE, RoleEvent.UNREACHABLE, RoleEvent.LEASE_EXPIRED, RoleEvent.GRANTED),
                List.of(ACTIVE_UNPROTECTED, ACTIVE_UNPROTECTED, ARBITRATING, ACTIVE_UNPROTECTED),
                List.of(RoleAction.ASK_ACTIVE, RoleAction.WAIT_RETRY, RoleAction.HOLD_OUTPUT_AND_ASK, RoleAction.GO_ALONE));
        // a backup with no image cannot take over, whatever happens
        assertPath(BACKUP_SEEDING, List.of(RoleEvent.PEER_LOST, RoleEvent.LEASE_EXPIRED), List.of(BACKUP_SEEDING, BACKUP_SEEDING),
                List.of(RoleAction.NONE, RoleAction.NONE));
    }

    private static void assertPath(ReplicationRole start, List<RoleEvent> events, List<ReplicationRole> states, List<RoleAction> actions) {
        ReplicationRole s = start;
        for (int i = 0; i < events.size(); i++) {
            RoleMachine.Transition t = RoleMachine.next(s, events.get(i));
            assertThat(t.to()).as("%s on %s", s, events.get(i)).isEqualTo(states.get(i));
            assertThat(t.action()).as("%s on %s", s, events.get(i)).isEqualTo(actions.get(i));
            s = t.to();
        }
    }

    /**
     * Every sequence of up to 7 events from every starting state, with arbiter answers only when
     * a request is outstanding (as in life): a node acts alone or takes over only on a grant that
     * no lease expiry has voided, nothing follows a refusal, and no node acts alone but by
     * GO_ALONE.
     */
    @Test
    void shouldNeverActAloneWithoutALiveGrantInAnySequenceOfEvents() {
        long[] explored = {0};
        for (ReplicationRole start : List.of(SEEDING, PROTECTED, BACKUP_SEEDING, BACKUP_WAITING)) {
            explore(start, false, false, false, 0, new ArrayList<>(), explored);
        }
        assertThat(explored[0]).isGreaterThan(1_000_000);
    }

    private static void explore(ReplicationRole s, boolean asking, boolean liveGrant, boolean refused, int depth, List<RoleEvent> path, long[] n) {
        if (depth == 7) return;
        for (RoleEvent e : RoleEvent.values()) {
            if (ANSWERS.contains(e) && !asking) continue;
            if (e == RoleEvent.RENEW_DUE && !liveGrant) continue;
            if (e == RoleEvent.LEASE_EXPIRED && !liveGrant) continue;
            n[0]++;
            path.add(e);
            RoleMachine.Transition t = RoleMachine.next(s, e);
            RoleAction a = t.action();
            boolean grant = liveGrant;
            if (e == RoleEvent.GRANTED) grant = true;
            if (e == RoleEvent.LEASE_EXPIRED || e == RoleEvent.REFUSED) grant = false;
            if ((a == RoleAction.GO_ALONE || a == RoleAction.TAKE_OVER) && !grant) fail("%s without a live grant after %s", a, path);
            if (refused && a != RoleAction.NONE) fail("%s after a refusal: %s", a, path);
            if (t.to().actsAlone() && !s.actsAlone() && a != RoleAction.GO_ALONE) fail("acting alone without GO_ALONE: %s", path);
            if (t.to() == STOPPED_REFUSED && s != STOPPED_REFUSED && e != RoleEvent.REFUSED) fail("stopped without a refusal: %s", path);
            boolean stillAsking = ASKS.contains(a) || (asking && !ANSWERS.contains(e));
            explore(t.to(), stillAsking, grant, refused || t.to() == STOPPED_REFUSED, depth + 1, path, n);
            path.removeLast();
        }
    }

    @Test
    void shouldIgnoreEveryEventOnceStopped() {
        Set<RoleMachine.Transition> seen = new HashSet<>();
        for (RoleEvent e : RoleEvent.values()) seen.add(RoleMachine.next(STOPPED_REFUSED, e));
        assertThat(seen).containsExactly(new RoleMachine.Transition(STOPPED_REFUSED, RoleAction.NONE));
    }
}
