package io.jremus.replication.failover;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GrantTest {
    @Test
    void shouldEndTheHoldersLeaseBeforeTheArbitersCountingFromWhenTheRequestWasSent() {
        Grant g = new Grant(Grant.Outcome.GRANTED, "vm", 3, "a", Role.ACTIVE, Duration.ofMillis(1000), Duration.ZERO, "ok");
        assertThat(g.validUntil(5_000_000_000L)).isEqualTo(5_000_000_000L + 990_000_000L);
        Grant busy = new Grant(Grant.Outcome.BUSY, "vm", 3, "b", Role.ACTIVE, Duration.ZERO, Duration.ofMillis(5), "busy");
        assertThat(busy.validUntil(0)).isEqualTo(Long.MIN_VALUE);
        assertThat(Grant.unreachable("vm", Duration.ofMillis(100), "down").granted()).isFalse();
    }

    @Test
    void shouldKeepStableCodes() {
        assertThat(Role.PRIMARY.code()).isEqualTo(1);
        assertThat(Role.ACTIVE.code()).isEqualTo(2);
        assertThat(Role.STANDBY.code()).isEqualTo(3);
        assertThat(Grant.Outcome.GRANTED.code()).isEqualTo(1);
        assertThat(Grant.Outcome.BUSY.code()).isEqualTo(2);
        assertThat(Grant.Outcome.REFUSED.code()).isEqualTo(3);
        assertThat(Grant.Outcome.UNREACHABLE.code()).isEqualTo(4);
        for (Role r : Role.values()) assertThat(Role.ofCode(r.code())).isEqualTo(r);
        assertThatThrownBy(() -> Role.ofCode(9)).hasMessage("unknown role code 9");
    }
}
