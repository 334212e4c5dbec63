package io.interchange.flow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.ledger.LedgerPostingService;
import io.interchange.sandbox.S4HanaPeer;
import io.interchange.store.DeadLetter;
import io.interchange.testkit.Databases;
import io.interchange.testkit.Events;
import io.interchange.testkit.RuntimeKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * One ERP's outage does not stall the other: while S/4HANA answers 503, its circuit breaker opens and its postings
 * wait (held by its own consumer, paused: no request reaches S/4HANA, nothing is dead-lettered), while the legacy
 * ERP's postings keep flowing through theirs. Once S/4HANA is back, the breaker's probe closes it and every held
 * posting is made, once. On real Kafka and PostgreSQL.
 */
class ErpIsolationTest {

    static RuntimeKit kit;
    static final Duration OPEN_WAIT = Duration.ofSeconds(3);

    @BeforeAll
    static void start() throws Exception {
        kit = RuntimeKit.start(Databases.Backend.POSTGRES, Map.of(
                "interchange.erp.breaker.open-wait", OPEN_WAIT.toString()));
    }

    @AfterAll
    static void stop() {
        if (kit != null) kit.close();
    }

    @Test
    void anS4OutageHoldsS4PostingsWhileLegacyPostingsFlowAndAllArePostedOnceAfterIt() throws Exception {
        kit.s4.setAvailable(false);
        List<String> s4Events = new ArrayList<>();
        List<String> legacyEvents = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            s4Events.add(send(Events.invoicePaid("DE01")));
            // GB01's cut-over is decades away (mapped to find out), FR01 has none (known from the entity alone)
            legacyEvents.add(send(Events.invoicePaid(i % 2 == 0 ? "GB01" : "FR01")));
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> kit.legacy.postings().size() == 10);

        // the S/4HANA breaker opened: the ledger flow's readiness shows it, the instance's and liveness do not care
        await().atMost(Duration.ofSeconds(20)).until(() -> "DOWN".equals(check("breaker:s4hana").path("status").asText()));
        JsonNode breaker = check("breaker:s4hana");
        assertThat(breaker.path("details").path("state").asText()).as(breaker.toString()).isEqualTo("OPEN");
        assertThat(check("breaker:legacy").path("status").asText()).isEqualTo("UP");
        assertThat(kit.get("/observe/health/live").statusCode()).isEqualTo(200);
        assertThat(kit.get("/observe/health/ready").statusCode()).isEqualTo(200);
        String metrics = kit.get("/observe/metrics").body();
        assertThat(metrics).contains("interchange_erp_breaker_state{state=\"open\",target=\"S4HANA\"} 1.0")
                .contains("interchange_erp_breaker_state{state=\"closed\",target=\"LEGACY\"} 1.0");

        // while it is open no request reaches S/4HANA (no spinning), and legacy postings still flow
        // requests of either kind: postings, and reads of the ledger (a posting whose earlier attempt failed reads first)
        int s4Requests = s4Requests();
        for (int i = 0; i < 5; i++) legacyEvents.add(send(Events.invoiceFinalized("FR01")));
        await().atMost(Duration.ofSeconds(10)).until(() -> kit.legacy.postings().size() == 15);
        // at most one round of probes (interchange.erp.breaker.half-open-calls, 2) can have gone out meanwhile
        assertThat(s4Requests() - s4Requests).as("requests to S/4HANA while its breaker is open")
                .isLessThanOrEqualTo(2);
        assertThat(kit.s4.postings()).isEmpty();
        assertThat(openDeadLetters()).isEmpty();

        // a probe while still down opens the breaker again, and the postings keep waiting
        await().atMost(OPEN_WAIT.multipliedBy(4)).until(() -> s4Requests() > s4Requests);
        assertThat(kit.s4.postings()).isEmpty();
        assertThat(openDeadLetters()).isEmpty();

        kit.s4.setAvailable(true);
        await().atMost(OPEN_WAIT.multipliedBy(4).plusSeconds(20)).until(() -> s4Events.stream().allMatch(id ->
                kit.runtime.store().confirmations().find(LedgerPostingService.postingKey(id)).isPresent()));
        Thread.sleep(1000);
        assertThat(kit.s4.postings()).hasSize(10);
        assertThat(kit.s4.postings().stream().map(S4HanaPeer.Posting::uuid).distinct()).hasSize(10);
        assertThat(kit.legacy.postings()).hasSize(15);
        assertThat(openDeadLetters()).isEmpty();
        await().atMost(Duration.ofSeconds(5)).until(() -> "UP".equals(check("breaker:s4hana").path("status").asText()));
        // every posting was confirmed once, and each source event's postings reached one ERP only
        for (String id : legacyEvents) {
            assertThat(kit.runtime.store().confirmations().find(LedgerPostingService.postingKey(id))).isPresent();
        }
    }

    private static int s4Requests() {
        return kit.s4.requestCount() + kit.s4.readCount();
    }

    private static String send(ObjectNode event) throws Exception {
        assertThat(kit.sendSigned(Events.bytes(event)).statusCode()).isEqualTo(200);
        return event.get("id").asText();
    }

    private static List<DeadLetter> openDeadLetters() {
        return kit.runtime.store().deadLetters().list(null, DeadLetter.OPEN, 100);
    }

    /** A dependency of the ledger flow's readiness, as /observe/health/flows/billing-ledger shows it. */
    private static JsonNode check(String name) throws Exception {
        for (JsonNode c : new ObjectMapper().readTree(kit.get("/observe/health/flows/billing-ledger").body()).path("checks")) {
            if (c.path("name").asText().equals(name)) return c;
        }
        throw new AssertionError("no health check " + name);
    }
}
