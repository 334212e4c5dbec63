package io.interchange.store;

import io.interchange.testkit.Databases.Backend;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Dead letters in metrics: parked by route, kind and error class; open by route and legal entity, as the store holds them. */
class DeadLetterMetricsTest {

    private static final StoreFixture FIXTURE = new StoreFixture();

    @AfterAll
    static void closeStores() {
        FIXTURE.close();
    }

    private static long add(DeadLetterStore store, String route, String entity, String kind, String errorClass) {
        return store.add(route, "corr", "key-" + System.nanoTime(), kind, errorClass, "why", 1,
                entity == null ? Map.of() : Map.of(DeadLetterStore.ENTITY_HEADER, entity), new byte[]{1});
    }

    @Test
    void parkedCountsEveryNewDeadLetterByRouteKindAndErrorAndOpenFollowsTheStore() {
        DeadLetterStore store = FIXTURE.fresh(Backend.H2).deadLetters();
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (DeadLetterMetrics metrics = new DeadLetterMetrics(store, meters)) {
            long first = add(store, "billing.ledger-posting", "ZZ99", "PERMANENT", "io.interchange.reliability.PermanentFailure");
            add(store, "billing.ledger-posting", "ZZ99", "PERMANENT", "io.interchange.reliability.PermanentFailure");
            add(store, "billing.ledger-posting", "DE01", "TRANSIENT", "java.net.SocketTimeoutException");
            add(store, "loyalty.event", null, "PERMANENT", "");

            assertThat(parked(meters, "billing.ledger-posting", "PERMANENT", "PermanentFailure")).isEqualTo(2);
            assertThat(parked(meters, "billing.ledger-posting", "TRANSIENT", "SocketTimeoutException")).isEqualTo(1);
            assertThat(parked(meters, "loyalty.event", "PERMANENT", "unknown")).isEqualTo(1);

            metrics.refresh();
            assertThat(open(meters, "billing.ledger-posting", "ZZ99")).isEqualTo(2);
            assertThat(open(meters, "billing.ledger-posting", "DE01")).isEqualTo(1);
            assertThat(open(meters, "loyalty.event", DeadLetterMetrics.NO_ENTITY)).isEqualTo(1);

            // resolved dead letters leave the open count; a route and entity once seen stays, at 0
            assertThat(store.transition(first, DeadLetter.OPEN, DeadLetter.DISCARDED)).isTrue();
            assertThat(store.transition(store.list("loyalty.event", DeadLetter.OPEN, 10).get(0).id(), DeadLetter.OPEN,
                    DeadLetter.DISCARDED)).isTrue();
            metrics.refresh();
            assertThat(open(meters, "billing.ledger-posting", "ZZ99")).isEqualTo(1);
            assertThat(open(meters, "loyalty.event", DeadLetterMetrics.NO_ENTITY)).isZero();
            // a discard parks nothing
            assertThat(parked(meters, "billing.ledger-posting", "PERMANENT", "PermanentFailure")).isEqualTo(2);
        }
        // once closed, the store no longer counts into the registry
        add(store, "billing.ledger-posting", "ZZ99", "PERMANENT", "io.interchange.reliability.PermanentFailure");
        assertThat(parked(meters, "billing.ledger-posting", "PERMANENT", "PermanentFailure")).isEqualTo(2);
    }

    private static double parked(SimpleMeterRegistry meters, String route, String kind, String error) {
        var c = meters.find(DeadLetterMetrics.PARKED_METRIC).tag("route", route).tag("kind", kind).tag("error", error).counter();
        return c == null ? 0 : c.count();
    }

    private static double open(SimpleMeterRegistry meters, String route, String entity) {
        var g = meters.find(DeadLetterMetrics.OPEN_METRIC).tag("route", route).tag("entity", entity).gauge();
        assertThat(g).as("gauge %s %s", route, entity).isNotNull();
        return g.value();
    }
}
