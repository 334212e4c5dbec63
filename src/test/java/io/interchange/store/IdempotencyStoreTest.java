package io.interchange.store;

import io.interchange.store.IdempotencyStore.DuplicateState;
import io.interchange.testkit.Databases.Backend;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.Collections;
import java.util.List;

import static io.interchange.store.StoreFixture.LEASE;
import static io.interchange.store.StoreFixture.TTL;
import static org.assertj.core.api.Assertions.assertThat;

class IdempotencyStoreTest {

    private static final StoreFixture FIXTURE = new StoreFixture();

    @AfterAll
    static void closeStores() {
        FIXTURE.close();
    }

    private IdempotencyStore fresh(Backend backend) {
        return FIXTURE.fresh(backend).idempotency();
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void firstClaimWinsAndSecondIsInProgress(Backend backend) {
        IdempotencyStore ids = fresh(backend);

        assertThat(ids.state("evt_1")).isNull();
        assertThat(ids.claim("evt_1")).isNull();
        assertThat(ids.state("evt_1")).isEqualTo("PENDING");
        assertThat(ids.claim("evt_1")).isEqualTo(DuplicateState.IN_PROGRESS);
        assertThat(ids.add("evt_1")).isFalse();
        assertThat(ids.contains("evt_1")).isFalse();

        // another key is independent
        assertThat(ids.add("evt_2")).isTrue();
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void aKeyReleasedAsUnsettledIsTakenOverAtOnceAndTheClaimIsToldSo(Backend backend) {
        IdempotencyStore ids = fresh(backend);
        assertThat(ids.claim("evt_1")).isNull();
        assertThat(ids.claimable("evt_1")).isFalse();

        assertThat(ids.releaseUnsettled("evt_1")).isTrue();

        assertThat(ids.state("evt_1")).isEqualTo("PENDING");
        assertThat(ids.claimable("evt_1")).isTrue();
        assertThat(ids.claimNoting("evt_1")).isEqualTo(DuplicateState.TAKEN_OVER);
        // now held again, by this claim
        assertThat(ids.claimable("evt_1")).isFalse();
        assertThat(ids.claimAllNoting(List.of("evt_1"))).containsExactly(DuplicateState.IN_PROGRESS);
        ids.releaseUnsettled("evt_1");
        assertThat(ids.claim("evt_1")).as("the plain claim answers null for a take-over").isNull();
        // a DONE key is not released
        ids.confirm("evt_1");
        assertThat(ids.releaseUnsettled("evt_1")).isFalse();
        assertThat(ids.claim("evt_1")).isEqualTo(DuplicateState.DONE);
        assertThat(ids.claimable("evt_1")).isFalse();
        assertThat(ids.claimable("never-claimed")).isTrue();
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void confirmedKeyIsDone(Backend backend) {
        IdempotencyStore ids = fresh(backend);
        assertThat(ids.claim("evt_1")).isNull();

        assertThat(ids.confirm("evt_1")).isTrue();

        assertThat(ids.state("evt_1")).isEqualTo("DONE");
        assertThat(ids.contains("evt_1")).isTrue();
        assertThat(ids.claim("evt_1")).isEqualTo(DuplicateState.DONE);
        assertThat(ids.confirm("never-claimed")).isFalse();
        assertThat(ids.state("never-claimed")).isNull();
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void refusedExchangeCarriesWhy(Backend backend) throws Exception {
        IdempotencyStore ids = fresh(backend);
        try (DefaultCamelContext camel = new DefaultCamelContext()) {
            Exchange first = new DefaultExchange(camel);
            Exchange pending = new DefaultExchange(camel);
            Exchange done = new DefaultExchange(camel);

            assertThat(ids.add(first, "evt_1")).isTrue();
            assertThat(first.getProperty(IdempotencyStore.DUPLICATE_STATE)).isNull();
            assertThat(ids.add(pending, "evt_1")).isFalse();
            assertThat(pending.getProperty(IdempotencyStore.DUPLICATE_STATE)).isEqualTo(DuplicateState.IN_PROGRESS);
            ids.confirm("evt_1");
            assertThat(ids.add(done, "evt_1")).isFalse();
            assertThat(done.getProperty(IdempotencyStore.DUPLICATE_STATE)).isEqualTo(DuplicateState.DONE);
        }
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void removedKeyIsClaimableAgain(Backend backend) {
        IdempotencyStore ids = fresh(backend);
        ids.claim("pending");
        ids.claim("done");
        ids.confirm("done");

        assertThat(ids.remove("pending")).isTrue();
        assertThat(ids.remove("done")).isTrue();
        assertThat(ids.remove("pending")).isFalse();
        assertThat(ids.state("pending")).isNull();
        assertThat(ids.state("done")).isNull();

        assertThat(ids.claim("pending")).isNull();
        assertThat(ids.claim("done")).isNull();
        assertThat(ids.state("done")).isEqualTo("PENDING");
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void pendingKeyWithinLeaseIsNotTakenOver(Backend backend) {
        IdempotencyStore ids = fresh(backend);
        ids.claim("evt_1");

        FIXTURE.clock.advance(LEASE.minusSeconds(1));

        assertThat(ids.claim("evt_1")).isEqualTo(DuplicateState.IN_PROGRESS);
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void pendingKeyOlderThanLeaseIsTakenOverByExactlyOneOfManyContenders(Backend backend) throws Exception {
        IdempotencyStore ids = fresh(backend);
        int rounds = 10;
        for (int i = 0; i < rounds; i++) {
            ids.claim("evt_" + i);
        }
        FIXTURE.clock.advance(LEASE.plusMillis(1));

        for (int i = 0; i < rounds; i++) {
            String key = "evt_" + i;
            List<DuplicateState> results = StoreFixture.race(16, () -> ids.claim(key));

            assertThat(Collections.frequency(results, null)).as("winners for %s", key).isEqualTo(1);
            assertThat(Collections.frequency(results, DuplicateState.IN_PROGRESS)).isEqualTo(15);
            assertThat(ids.state(key)).isEqualTo("PENDING");
        }
        // the takeover renewed the lease: a contender in the same instant is refused
        assertThat(ids.claim("evt_0")).isEqualTo(DuplicateState.IN_PROGRESS);
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void renewedLeaseIsNotTakenOver(Backend backend) {
        IdempotencyStore ids = fresh(backend);
        ids.claim("evt_1");
        FIXTURE.clock.advance(LEASE.minusSeconds(1));
        ids.renew("evt_1");

        FIXTURE.clock.advance(Duration.ofSeconds(2)); // lease + 1 s after the claim, 2 s after the renewal

        assertThat(ids.claim("evt_1")).isEqualTo(DuplicateState.IN_PROGRESS);
        FIXTURE.clock.advance(LEASE);
        assertThat(ids.claim("evt_1")).isNull();
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void doneKeyIsNotTakenOverAfterTheLease(Backend backend) {
        IdempotencyStore ids = fresh(backend);
        ids.claim("evt_1");
        ids.confirm("evt_1");

        FIXTURE.clock.advance(LEASE.multipliedBy(10)); // still within the TTL

        assertThat(ids.claim("evt_1")).isEqualTo(DuplicateState.DONE);
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void expiredKeysAreClaimableAndExpireDeletesThem(Backend backend) {
        IdempotencyStore ids = fresh(backend);
        ids.claim("done-old");
        ids.confirm("done-old");
        ids.claim("pending-old");
        FIXTURE.clock.advance(Duration.ofMinutes(30));
        ids.claim("young");
        ids.confirm("young");

        // nothing has expired yet
        assertThat(ids.expire()).isZero();
        assertThat(ids.claim("done-old")).isEqualTo(DuplicateState.DONE);

        FIXTURE.clock.advance(TTL.minus(Duration.ofMinutes(30)).plusSeconds(1)); // old keys are past their expiry

        // an expired DONE key is processed again
        assertThat(ids.claim("done-old")).isNull();
        assertThat(ids.state("done-old")).isEqualTo("PENDING");
        assertThat(ids.claim("young")).isEqualTo(DuplicateState.DONE);

        assertThat(ids.expire()).isEqualTo(1); // pending-old; done-old was re-claimed with a new expiry
        assertThat(ids.state("pending-old")).isNull();
        assertThat(ids.state("done-old")).isEqualTo("PENDING");
        assertThat(ids.state("young")).isEqualTo("DONE");

        FIXTURE.clock.advance(Duration.ofMinutes(30));
        assertThat(ids.expire()).isEqualTo(1); // young
        assertThat(ids.state("young")).isNull();
        assertThat(ids.state("done-old")).isEqualTo("PENDING");
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void concurrentClaimsOfOneKeyHaveExactlyOneWinner(Backend backend) throws Exception {
        IdempotencyStore ids = fresh(backend);
        for (int round = 0; round < 25; round++) {
            String key = "race_" + round;
            List<DuplicateState> results = StoreFixture.race(16, () -> ids.claim(key));

            assertThat(Collections.frequency(results, null)).as("winners for %s", key).isEqualTo(1);
            assertThat(Collections.frequency(results, DuplicateState.IN_PROGRESS)).isEqualTo(15);
        }
        assertThat(rowsByState(backend)).containsExactly("PENDING=25");
    }

    private static List<String> rowsByState(Backend backend) throws Exception {
        List<String> out = new java.util.ArrayList<>();
        try (var c = FIXTURE.store(backend).dataSource().getConnection(); var s = c.createStatement();
             var rs = s.executeQuery("SELECT state, COUNT(*) FROM idempotency_key GROUP BY state ORDER BY state")) {
            while (rs.next()) {
                out.add(rs.getString(1) + "=" + rs.getLong(2));
            }
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void clearDeletesEveryKey(Backend backend) {
        IdempotencyStore ids = fresh(backend);
        ids.claim("a");
        ids.claim("b");
        ids.confirm("b");

        ids.clear();

        assertThat(ids.state("a")).isNull();
        assertThat(ids.state("b")).isNull();
        assertThat(ids.add("a")).isTrue();
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void concurrentClaimsShareCommitsAndEachKeyIsWonOnce(Backend backend) throws Exception {
        IdempotencyStore ids = fresh(backend);
        int threads = 16;
        int keys = 200;
        var pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        try {
            // every key is claimed by two threads at once: exactly one wins, the other sees it in progress
            List<java.util.concurrent.Future<DuplicateState>> results = new java.util.ArrayList<>();
            for (int k = 0; k < keys; k++) {
                String key = "evt_c" + k;
                results.add(pool.submit(() -> ids.claim(key)));
                results.add(pool.submit(() -> ids.claim(key)));
            }
            for (int k = 0; k < keys; k++) {
                List<DuplicateState> pair = java.util.Arrays.asList(results.get(2 * k).get(), results.get(2 * k + 1).get());
                assertThat(pair).as("key %d", k).containsExactlyInAnyOrder(null, DuplicateState.IN_PROGRESS);
            }
        } finally {
            pool.shutdown();
        }
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void aBatchOfKeysKnownAlreadyIsTakenOverOrRefusedKeyByKey(Backend backend) {
        IdempotencyStore ids = fresh(backend);
        ids.claim("expired-done");
        ids.confirm("expired-done");
        FIXTURE.clock.advance(TTL.minus(LEASE));
        ids.claim("stale");
        ids.claim("done");
        ids.confirm("done");
        FIXTURE.clock.advance(LEASE.plusSeconds(1)); // expired-done past its expiry, stale past its lease
        ids.claim("held");

        List<String> batch = List.of("held", "stale", "done", "expired-done", "stale", "new", "done");
        assertThat(ids.claimAllNoting(batch)).containsExactly(DuplicateState.IN_PROGRESS, DuplicateState.TAKEN_OVER,
                DuplicateState.DONE, DuplicateState.TAKEN_OVER, DuplicateState.IN_PROGRESS, null, DuplicateState.DONE);
        for (String key : List.of("stale", "expired-done", "new")) {
            assertThat(ids.state(key)).as(key).isEqualTo("PENDING");
            assertThat(ids.claimable(key)).as("%s held by the batch", key).isFalse();
        }
        // the keys taken over have a new lease and expiry: the same batch again is refused throughout
        assertThat(ids.claimAll(batch)).containsExactly(DuplicateState.IN_PROGRESS, DuplicateState.IN_PROGRESS,
                DuplicateState.DONE, DuplicateState.IN_PROGRESS, DuplicateState.IN_PROGRESS, DuplicateState.IN_PROGRESS,
                DuplicateState.DONE);
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void aBatchClaimWithARefusedKeyFailsThatKeyAloneAndRepeatsAreClaimedOnce(Backend backend) {
        IdempotencyStore ids = fresh(backend);
        ids.claim("evt_b1");
        ids.confirm("evt_b1");
        List<DuplicateState> states = ids.claimAll(List.of("evt_b1", "evt_b2", "evt_b2", "evt_b3"));
        assertThat(states.get(0)).isEqualTo(DuplicateState.DONE);
        assertThat(states.get(3)).isNull();
        // a key given twice is claimed once: which of the two wins is not promised (the two group-commit writers may
        // each take one of them), only that the other is refused as held
        assertThat(java.util.Arrays.asList(states.get(1), states.get(2)))
                .containsExactlyInAnyOrder(null, DuplicateState.IN_PROGRESS);

        // a key longer than the column is a data error (SQLSTATE 22): only its caller fails, and permanently
        String tooLong = "k".repeat(400);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ids.claimAll(List.of("evt_b4", tooLong)))
                .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.isTransient()).isFalse());
        assertThat(ids.state("evt_b4")).isEqualTo("PENDING");
        ids.confirmAll(List.of("evt_b2", "evt_b3", "evt_b4"));
        assertThat(ids.state("evt_b3")).isEqualTo("DONE");
        assertThat(ids.state("evt_b4")).isEqualTo("DONE");
    }
}
