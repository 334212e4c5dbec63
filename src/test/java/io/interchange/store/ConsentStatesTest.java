package io.interchange.store;

import io.interchange.model.ConsentChange;
import io.interchange.testkit.Databases.Backend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/** The consent rule on H2 and PostgreSQL: newer wins, a revocation wins a tie, an older value never overwrites. */
class ConsentStatesTest {

    private static final StoreFixture FIXTURE = new StoreFixture();
    private static final String CUSTOMER = "0b6f6f7e-3f43-4c50-a7c1-6d3c1a2b9e01";
    private static final String CH = ConsentChange.EMAIL_MARKETING;

    @AfterAll
    static void closeStores() {
        FIXTURE.close();
    }

    private static ConsentChange change(String id, boolean granted, String source, String time) {
        return new ConsentChange(id, CUSTOMER, CH, granted, source, time, source + "-record", null);
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void aRevocationIsNotOverwrittenByAnOlderOptInArrivingLater(Backend backend) {
        ConsentStates states = FIXTURE.fresh(backend).consentStates();
        assertThat(states.apply(change("loyalty:1", false, "loyalty", "2026-03-01T10:00:05.000Z")).outcome())
                .isEqualTo(ConsentStates.Outcome.APPLIED);
        ConsentStates.Result older = states.apply(change("hubspot:1", true, "hubspot", "2026-03-01T10:00:04.999Z"));

        assertThat(older.outcome()).isEqualTo(ConsentStates.Outcome.STALE);
        assertThat(older.inForce()).isFalse();
        assertThat(older.state().granted()).isFalse();
        assertThat(older.state().source()).isEqualTo("loyalty");
        assertThat(older.state().sourceTime()).isEqualTo(Instant.parse("2026-03-01T10:00:05Z"));
        assertThat(states.history(CUSTOMER, CH)).extracting(ConsentStates.Received::source, ConsentStates.Received::outcome)
                .as("every change received is kept, applied or not")
                .containsExactly(org.assertj.core.groups.Tuple.tuple("loyalty", "APPLIED"),
                        org.assertj.core.groups.Tuple.tuple("hubspot", "STALE"));
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void onATieTheRevocationWinsWhicheverArrivesFirst(Backend backend) {
        ConsentStates states = FIXTURE.fresh(backend).consentStates();
        String t = "2026-03-01T10:00:00.000Z";
        states.apply(change("hubspot:2", true, "hubspot", t));
        assertThat(states.apply(change("mailchimp:2", false, "mailchimp", t)).outcome()).isEqualTo(ConsentStates.Outcome.APPLIED);
        assertThat(states.apply(change("salesforce:2", true, "salesforce", t)).outcome())
                .as("an opt-in of the same time does not take it back").isEqualTo(ConsentStates.Outcome.STALE);
        assertThat(states.current(CUSTOMER, CH).orElseThrow().granted()).isFalse();
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void aNewerOptInAfterARevocationIsApplied(Backend backend) {
        ConsentStates states = FIXTURE.fresh(backend).consentStates();
        states.apply(change("loyalty:3", false, "loyalty", "2026-03-01T10:00:00.000Z"));
        assertThat(states.apply(change("hubspot:3", true, "hubspot", "2026-03-01T10:00:00.001Z")).outcome())
                .isEqualTo(ConsentStates.Outcome.APPLIED);
        assertThat(states.current(CUSTOMER, CH).orElseThrow())
                .extracting(ConsentStates.State::granted, ConsentStates.State::source).containsExactly(true, "hubspot");
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void theSameChangeDeliveredAgainIsInForceNotStale(Backend backend) {
        ConsentStates states = FIXTURE.fresh(backend).consentStates();
        ConsentChange c = change("mailchimp:4", false, "mailchimp", "2026-03-01T10:00:00.000Z");
        states.apply(c);
        ConsentStates.Result again = states.apply(c);
        assertThat(again.outcome()).isEqualTo(ConsentStates.Outcome.DUPLICATE);
        assertThat(again.inForce()).as("a redelivery after a crash still brings the systems in line").isTrue();
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void changesAppliedConcurrentlyLeaveTheNewestWithRevocationsWinningTies(Backend backend) throws Exception {
        ConsentStates states = FIXTURE.fresh(backend).consentStates();
        List<ConsentChange> changes = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            // times 10:00:00.000 .. 10:00:00.019, each twice: once granted, once revoked
            String time = String.format("2026-03-01T10:00:00.%03dZ", i / 2);
            changes.add(change("c" + i, i % 2 == 0, i % 2 == 0 ? "hubspot" : "salesforce", time));
        }
        Collections.shuffle(changes, new java.util.Random(7));
        ExecutorService pool = Executors.newFixedThreadPool(8);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        for (ConsentChange c : changes) done.add(pool.submit(() -> {
            go.await();
            return states.apply(c);
        }));
        go.countDown();
        for (Future<?> f : done) f.get();
        pool.shutdown();

        ConsentStates.State state = states.current(CUSTOMER, CH).orElseThrow();
        assertThat(state.sourceTime()).isEqualTo(Instant.parse("2026-03-01T10:00:00.019Z"));
        assertThat(state.granted()).as("the revocation of the newest time").isFalse();
        assertThat(states.history(CUSTOMER, CH)).hasSize(40);
    }
}
