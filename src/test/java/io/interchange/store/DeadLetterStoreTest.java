package io.interchange.store;

import io.interchange.testkit.Databases.Backend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static io.interchange.store.StoreFixture.START;
import static org.assertj.core.api.Assertions.assertThat;

class DeadLetterStoreTest {

    private static final StoreFixture FIXTURE = new StoreFixture();

    @AfterAll
    static void closeStores() {
        FIXTURE.close();
    }

    private DeadLetterStore fresh(Backend backend) {
        return FIXTURE.fresh(backend).deadLetters();
    }

    private static long add(DeadLetterStore dl, String routeId) {
        return dl.add(routeId, "corr-" + routeId, "key-" + routeId, "TRANSIENT", "java.net.SocketTimeoutException",
                "Read timed out", 1, Map.of("h", "v"), new byte[]{1, 2, 3});
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void storedDeadLetterRoundTripsExactly(Backend backend) {
        DeadLetterStore dl = fresh(backend);
        byte[] everyByte = new byte[256];
        for (int i = 0; i < everyByte.length; i++) {
            everyByte[i] = (byte) i;
        }
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Stripe-Signature", "t=1700000000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd");
        headers.put("Content-Type", "application/json; charset=utf-8");
        headers.put("X-Unicode", "Grüße 日本 \uD83D\uDE00 \"quoted\" back\\slash\nnew line\ttab");
        headers.put("X-Empty", "");

        long id = dl.add("billing.ledger-posting", "corr-1", "evt_1", "PERMANENT", "java.lang.IllegalArgumentException",
                "bad input", 8, headers, everyByte);

        DeadLetter d = dl.find(id).orElseThrow();
        assertThat(d.id()).isEqualTo(id);
        assertThat(d.routeId()).isEqualTo("billing.ledger-posting");
        assertThat(d.status()).isEqualTo(DeadLetter.OPEN);
        assertThat(d.correlationId()).isEqualTo("corr-1");
        assertThat(d.idempotencyKey()).isEqualTo("evt_1");
        assertThat(d.failureKind()).isEqualTo("PERMANENT");
        assertThat(d.errorClass()).isEqualTo("java.lang.IllegalArgumentException");
        assertThat(d.errorMessage()).isEqualTo("bad input");
        assertThat(d.attempts()).isEqualTo(8);
        assertThat(d.headers()).isEqualTo(headers);
        assertThat(d.payload()).isEqualTo(everyByte);
        assertThat(d.createdAt()).isEqualTo(START);
        assertThat(d.updatedAt()).isEqualTo(START);

        assertThat(dl.find(id + 1000)).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void largePayloadAndNullsRoundTrip(Backend backend) {
        DeadLetterStore dl = fresh(backend);
        byte[] payload = new byte[1024 * 1024]; // the largest body the business port accepts
        new Random(42).nextBytes(payload);

        long id = dl.add("r", null, null, "TRANSIENT", "x.Y", null, 1, Map.of(), payload);

        DeadLetter d = dl.find(id).orElseThrow();
        assertThat(d.payload()).isEqualTo(payload);
        assertThat(d.headers()).isEmpty();
        assertThat(d.correlationId()).isNull();
        assertThat(d.idempotencyKey()).isNull();
        assertThat(d.errorMessage()).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void longErrorMessageIsTruncated(Backend backend) {
        DeadLetterStore dl = fresh(backend);
        String message = "x".repeat(5000);

        long id = dl.add("r", null, null, "TRANSIENT", "x.Y", message, 1, Map.of(), new byte[0]);

        String stored = dl.find(id).orElseThrow().errorMessage();
        assertThat(stored).hasSize(4000).startsWith("xxx").endsWith("x…");
        assertThat(dl.find(id).orElseThrow().payload()).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void listIsNewestFirstPerRouteWithLimitAndCountMatches(Backend backend) {
        DeadLetterStore dl = fresh(backend);
        long a1 = add(dl, "A");
        long b1 = add(dl, "B");
        long a2 = add(dl, "A");
        long a3 = add(dl, "A");
        long b2 = add(dl, "B");
        assertThat(dl.transition(a2, DeadLetter.OPEN, DeadLetter.DISCARDED)).isTrue();

        assertThat(ids(dl.list("A", DeadLetter.OPEN, 10))).containsExactly(a3, a1);
        assertThat(ids(dl.list("A", DeadLetter.OPEN, 1))).containsExactly(a3);
        assertThat(ids(dl.list("B", DeadLetter.OPEN, 10))).containsExactly(b2, b1);
        assertThat(ids(dl.list(null, DeadLetter.OPEN, 10))).containsExactly(b2, a3, b1, a1);
        assertThat(ids(dl.list(null, DeadLetter.OPEN, 3))).containsExactly(b2, a3, b1);
        assertThat(ids(dl.list("A", DeadLetter.DISCARDED, 10))).containsExactly(a2);
        assertThat(dl.list("B", DeadLetter.DISCARDED, 10)).isEmpty();
        assertThat(dl.list("nope", DeadLetter.OPEN, 10)).isEmpty();

        assertThat(dl.count("A", DeadLetter.OPEN)).isEqualTo(2);
        assertThat(dl.count("B", DeadLetter.OPEN)).isEqualTo(2);
        assertThat(dl.count(null, DeadLetter.OPEN)).isEqualTo(4);
        assertThat(dl.count(null, DeadLetter.DISCARDED)).isEqualTo(1);
        assertThat(dl.count("B", DeadLetter.DISCARDED)).isZero();
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void transitionOnlyFromTheExpectedStatus(Backend backend) {
        DeadLetterStore dl = fresh(backend);
        long id = add(dl, "A");
        FIXTURE.clock.advance(Duration.ofMinutes(5));

        assertThat(dl.transition(id, DeadLetter.OPEN, DeadLetter.REPLAYING)).isTrue();
        assertThat(dl.transition(id, DeadLetter.OPEN, DeadLetter.REPLAYING)).isFalse();
        assertThat(dl.transition(id, DeadLetter.OPEN, DeadLetter.DISCARDED)).isFalse();

        DeadLetter d = dl.find(id).orElseThrow();
        assertThat(d.status()).isEqualTo(DeadLetter.REPLAYING);
        assertThat(d.updatedAt()).isEqualTo(START.plus(Duration.ofMinutes(5)));
        assertThat(d.createdAt()).isEqualTo(START);

        assertThat(dl.transition(id, DeadLetter.REPLAYING, DeadLetter.REPLAYED)).isTrue();
        assertThat(dl.find(id).orElseThrow().status()).isEqualTo(DeadLetter.REPLAYED);
        assertThat(dl.transition(id + 1000, DeadLetter.OPEN, DeadLetter.REPLAYING)).isFalse();
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void onlyOneOfConcurrentTransitionsWins(Backend backend) throws Exception {
        DeadLetterStore dl = fresh(backend);
        for (int round = 0; round < 30; round++) {
            long id = add(dl, "A");

            List<Boolean> results = StoreFixture.race(2, () -> dl.transition(id, DeadLetter.OPEN, DeadLetter.REPLAYING));

            assertThat(Collections.frequency(results, true)).as("winners for dead letter %d", id).isEqualTo(1);
            assertThat(dl.find(id).orElseThrow().status()).isEqualTo(DeadLetter.REPLAYING);
        }
        long id = add(dl, "A");
        List<Boolean> many = StoreFixture.race(16, () -> dl.transition(id, DeadLetter.OPEN, DeadLetter.REPLAYING));
        assertThat(Collections.frequency(many, true)).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void failedAgainReopensWithTheNewErrorAndAddsAttempts(Backend backend) {
        DeadLetterStore dl = fresh(backend);
        long id = dl.add("A", "c", "k", "TRANSIENT", "java.net.ConnectException", "refused", 3, Map.of("h", "v"),
                new byte[]{9});
        dl.transition(id, DeadLetter.OPEN, DeadLetter.REPLAYING);
        FIXTURE.clock.advance(Duration.ofHours(1));

        dl.failedAgain(id, "PERMANENT", "io.interchange.Rejected", "document locked", 2);

        DeadLetter d = dl.find(id).orElseThrow();
        assertThat(d.status()).isEqualTo(DeadLetter.OPEN);
        assertThat(d.attempts()).isEqualTo(5);
        assertThat(d.failureKind()).isEqualTo("PERMANENT");
        assertThat(d.errorClass()).isEqualTo("io.interchange.Rejected");
        assertThat(d.errorMessage()).isEqualTo("document locked");
        assertThat(d.updatedAt()).isEqualTo(START.plus(Duration.ofHours(1)));
        assertThat(d.createdAt()).isEqualTo(START);
        assertThat(d.payload()).containsExactly(9);
        assertThat(d.headers()).containsExactly(Map.entry("h", "v"));

        dl.transition(id, DeadLetter.OPEN, DeadLetter.REPLAYING);
        dl.failedAgain(id, "TRANSIENT", "x.Y", null, 1);
        d = dl.find(id).orElseThrow();
        assertThat(d.attempts()).isEqualTo(6);
        assertThat(d.errorMessage()).isEmpty();
        assertThat(dl.count("A", DeadLetter.OPEN)).isEqualTo(1);
    }

    private static List<Long> ids(List<DeadLetter> letters) {
        return letters.stream().map(DeadLetter::id).toList();
    }
}
