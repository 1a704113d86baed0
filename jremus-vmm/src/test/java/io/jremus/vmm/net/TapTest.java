package io.jremus.vmm.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Opening TAPs inside a throw-away namespace; skipped (with the reason) when not root. */
class TapTest {
    private TestNamespace ns;

    @AfterEach
    void cleanUp() {
        if (ns != null) ns.close();
    }

    @Test
    void shouldCreateATapInsideANamespaceThatVanishesWhenClosed() throws Exception {
        ns = TestNamespace.createOrSkip();
        Tap tap = NetNs.runIn(ns.name, () -> Tap.create("jt0"));
        try {
            assertThat(tap.name()).isEqualTo("jt0");
            ns.ip("link", "show", "jt0");
            assertThat(tap.readv(emptyIov())).isEqualTo(Tap.WOULD_BLOCK);
        } finally {
            tap.close();
        }
        assertThat(TestNamespace.run("ip", "-n", ns.name, "link", "show", "jt0").code()).isNotZero();
    }

    @Test
    void shouldAttachToAnExistingTapAndRefuseAMissingOne() throws Exception {
        ns = TestNamespace.createOrSkip();
        ns.ip("tuntap", "add", "dev", "jt1", "mode", "tap");
        try (Tap tap = NetNs.runIn(ns.name, () -> Tap.attach("jt1"))) {
            assertThat(tap.name()).isEqualTo("jt1");
        }
        assertThatThrownBy(() -> NetNs.runIn(ns.name, () -> Tap.attach("jt-missing")))
                .cause().isInstanceOf(TapException.class)
                .hasMessageContaining("cannot open TAP jt-missing").hasMessageContaining("no such interface");
    }

    @Test
    void shouldRefuseToCreateATapWhoseNameIsTaken() throws Exception {
        ns = TestNamespace.createOrSkip();
        ns.ip("tuntap", "add", "dev", "jt2", "mode", "tap");
        assertThatThrownBy(() -> NetNs.runIn(ns.name, () -> Tap.create("jt2")))
                .cause().isInstanceOf(TapException.class).hasMessageContaining("cannot open TAP jt2")
                .hasMessageContaining("already exists");
    }

    @Test
    void shouldRejectInvalidNamesBeforeTouchingTheKernel() {
        assertThatThrownBy(() -> Tap.create("a-name-that-is-far-too-long")).isInstanceOf(TapException.class)
                .hasMessageContaining("invalid TAP name");
    }

    private static IoVec emptyIov() {
        IoVec iov = new IoVec(1, java.lang.foreign.Arena.ofAuto());
        iov.add(java.lang.foreign.Arena.ofAuto().allocate(2048));
        return iov;
    }
}
