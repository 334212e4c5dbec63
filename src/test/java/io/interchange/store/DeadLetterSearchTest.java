package io.interchange.store;

import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.testkit.Databases;
import io.interchange.testkit.Databases.Backend;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static io.interchange.store.StoreFixture.START;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

/** The console's queries on dead letters, in SQL on both backends: search by each field, pages, edits and their race. */
class DeadLetterSearchTest {

    private static final StoreFixture FIXTURE = new StoreFixture();

    @AfterAll
    static void closeStores() {
        FIXTURE.close();
    }

    private static long add(DeadLetterStore dl, String route, String errorClass, String entity, String customer) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(CloudEventHeaders.ID, "evt-" + route + "-" + entity + "-" + customer);
        if (entity != null) headers.put(CloudEventHeaders.LEGAL_ENTITY, entity);
        if (customer != null) headers.put(CloudEventHeaders.SUBJECT, customer);
        long id = dl.add(route, "cid", "key-" + System.nanoTime(), "PERMANENT", errorClass, "failed", 1, headers,
                "{}".getBytes());
        FIXTURE.clock.advance(Duration.ofHours(1));
        return id;
    }

    @Test
    void theStoreReadsTheHeadersTheFlowsWrite() {
        assertThat(DeadLetterStore.ENTITY_HEADER).isEqualTo(CloudEventHeaders.LEGAL_ENTITY);
        assertThat(DeadLetterStore.CUSTOMER_HEADER).isEqualTo(CloudEventHeaders.SUBJECT);
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void searchesByEachFieldNewestFirstInPages(Backend backend) {
        DeadLetterStore dl = FIXTURE.fresh(backend).deadLetters();
        long a = add(dl, "billing.ledger-posting", "io.interchange.reliability.PermanentFailure", "DE01", "gc-1"); // START
        long b = add(dl, "billing.ledger-posting", "java.net.ConnectException", "US01", "gc-2");                  // +1h
        long c = add(dl, "billing.stripe-event", "io.interchange.reliability.PermanentFailure", "DE01", "gc-2");  // +2h
        long d = add(dl, "billing.ledger-posting", "io.interchange.reliability.Permanent_Failure", null, null);  // +3h
        dl.transition(b, DeadLetter.OPEN, DeadLetter.DISCARDED);

        assertThat(ids(dl.search(DeadLetterFilter.parse(""), 0, 10))).containsExactly(d, c, a);
        assertThat(ids(dl.search(DeadLetterFilter.parse("route=billing.ledger-posting"), 0, 10))).containsExactly(d, a);
        // simple name or full name; '_' in a name is no wildcard
        assertThat(ids(dl.search(DeadLetterFilter.parse("error=PermanentFailure"), 0, 10))).containsExactly(c, a);
        assertThat(ids(dl.search(DeadLetterFilter.parse("error=io.interchange.reliability.PermanentFailure"), 0, 10)))
                .containsExactly(c, a);
        assertThat(ids(dl.search(DeadLetterFilter.parse("error=Failure"), 0, 10))).isEmpty();
        assertThat(ids(dl.search(DeadLetterFilter.parse("entity=DE01"), 0, 10))).containsExactly(c, a);
        assertThat(ids(dl.search(DeadLetterFilter.parse("customer=gc-2"), 0, 10))).containsExactly(c);
        assertThat(ids(dl.search(DeadLetterFilter.parse("customer=gc-2 status=any"), 0, 10))).containsExactly(c, b);
        assertThat(ids(dl.search(DeadLetterFilter.parse("status=DISCARDED"), 0, 10))).containsExactly(b);
        assertThat(ids(dl.search(DeadLetterFilter.parse("kind=permanent entity=DE01 route=billing.stripe-event"), 0, 10)))
                .containsExactly(c);
        Instant plus1h = START.plus(Duration.ofHours(1));
        Instant plus3h = START.plus(Duration.ofHours(3));
        // from inclusive, to exclusive
        assertThat(ids(dl.search(DeadLetterFilter.parse("from=" + plus1h + " status=any"), 0, 10))).containsExactly(d, c, b);
        assertThat(ids(dl.search(DeadLetterFilter.parse("to=" + plus3h + " status=any"), 0, 10))).containsExactly(c, b, a);
        assertThat(ids(dl.search(DeadLetterFilter.parse("from=" + plus1h + " to=" + plus3h), 0, 10))).containsExactly(c);

        // pages newest first by a cursor; bulk pages oldest first
        assertThat(ids(dl.search(DeadLetterFilter.parse("status=any"), 0, 2))).containsExactly(d, c);
        assertThat(ids(dl.search(DeadLetterFilter.parse("status=any"), c, 2))).containsExactly(b, a);
        assertThat(ids(dl.page(DeadLetterFilter.parse("route=billing.ledger-posting"), 0, 1))).containsExactly(a);
        assertThat(ids(dl.page(DeadLetterFilter.parse("route=billing.ledger-posting"), a, 10))).containsExactly(d);
        assertThat(dl.countByRoute(DeadLetterFilter.parse("entity=DE01")))
                .containsExactly(Map.entry("billing.ledger-posting", 1L), Map.entry("billing.stripe-event", 1L));
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void ofAReplayAndAnEditedReplayAtOnceExactlyOneClaimsTheDeadLetter(Backend backend) throws Exception {
        DeadLetterStore dl = FIXTURE.fresh(backend).deadLetters();
        for (int round = 0; round < 5; round++) {
            long id = add(dl, "billing.ledger-posting", "x.Y", "DE01", "gc-1");
            AtomicInteger turn = new AtomicInteger();
            List<String> winners = StoreFixture.race(12, () -> turn.getAndIncrement() % 2 == 0
                    ? (dl.claimOriginalReplay(id) ? "original" : null)
                    : dl.claimEditedReplay(id, "{\"edited\":true}".getBytes(), "jmx:alice", "fix").isPresent() ? "edited" : null);
            List<String> won = new ArrayList<>(winners);
            won.removeIf(Objects::isNull);
            assertThat(won).hasSize(1);
            assertThat(dl.find(id).orElseThrow().status()).isEqualTo(DeadLetter.REPLAYING);
            assertThat(dl.edits(id)).hasSize(won.get(0).equals("edited") ? 1 : 0);
        }
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void anEditedDeadLetterIsNeverClaimedForItsOriginalAgain(Backend backend) {
        DeadLetterStore dl = FIXTURE.fresh(backend).deadLetters();
        long id = add(dl, "billing.ledger-posting", "x.Y", "DE01", "gc-1");
        Optional<Long> edit = dl.claimEditedReplay(id, "{\"v\":2}".getBytes(), "jmx:alice", "amount corrected");
        assertThat(edit).isPresent();
        assertThat(dl.claimEditedReplay(id, "{\"v\":3}".getBytes(), "jmx:bob", "again")).isEmpty();
        dl.failedAgain(id, "TRANSIENT", "x.Z", "down", 1); // the edited replay failed: open again
        dl.editOutcome(edit.get(), "replay of #" + id + " failed again");

        assertThat(dl.claimOriginalReplay(id)).isFalse();
        assertThat(dl.find(id).orElseThrow().status()).isEqualTo(DeadLetter.OPEN);
        assertThat(dl.find(id).orElseThrow().payload()).containsExactly("{}".getBytes());
        assertThat(dl.claimEditedReplay(id, "{\"v\":3}".getBytes(), "jmx:bob", "again")).isPresent();
        assertThat(dl.edits(id)).extracting(DeadLetterStore.Edit::actor, DeadLetterStore.Edit::reason,
                        DeadLetterStore.Edit::outcome)
                .containsExactly(tuple("jmx:alice", "amount corrected", "replay of #" + id
                        + " failed again"), tuple("jmx:bob", "again", null));
        assertThat(new String(dl.edits(id).get(1).payload())).isEqualTo("{\"v\":3}");
    }

    @Test
    void deadLettersStoredBeforeTheSearchColumnsAreFoundByEntityAndCustomer() throws Exception {
        String url = Databases.postgresUrl(Databases.createPostgresDatabase());
        Flyway.configure().dataSource(url, "postgres", "").locations("classpath:db/migration").target("9").load().migrate();
        try (Connection c = DriverManager.getConnection(url, "postgres", "")) {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO dead_letter (route_id, status, failure_kind, "
                    + "error_class, error_message, attempts, headers_json, payload, created_at, updated_at) VALUES "
                    + "('billing.ledger-posting', 'OPEN', 'PERMANENT', 'x.Y', 'm', 1, ?, ?, now(), now())")) {
                ps.setString(1, "{\"ce_legalentity\":\"DE01\",\"ce_subject\":\"gc-9\"}");
                ps.setBytes(2, new byte[0]);
                ps.executeUpdate();
                ps.setString(1, "{}");
                ps.executeUpdate();
            }
            Flyway.configure().dataSource(url, "postgres", "").locations("classpath:db/migration").load().migrate();
            try (ResultSet rs = c.createStatement().executeQuery(
                    "SELECT legal_entity, customer_id FROM dead_letter ORDER BY id")) {
                List<String> rows = new ArrayList<>();
                while (rs.next()) rows.add(rs.getString(1) + "/" + rs.getString(2));
                assertThat(rows).containsExactly("DE01/gc-9", "null/null");
            }
        }
    }

    private static List<Long> ids(List<DeadLetter> letters) {
        return letters.stream().map(DeadLetter::id).toList();
    }
}
