package io.interchange.flow;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.interchange.ledger.ErpBreakers;
import io.interchange.mapping.LegalEntity;
import io.interchange.sandbox.LegacyErpPeer;
import io.interchange.store.LoyaltyFilings;
import io.interchange.testkit.Databases;
import io.interchange.testkit.RuntimeKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;

import static io.interchange.flow.LoyaltyDailyFilingTest.PARIS;
import static io.interchange.flow.LoyaltyDailyFilingTest.customer;
import static io.interchange.flow.LoyaltyDailyFilingTest.eventId;
import static io.interchange.flow.LoyaltyDailyFilingTest.postings;
import static io.interchange.flow.LoyaltyDailyFilingTest.send;
import static io.interchange.flow.LoyaltyDailyFilingTest.transaction;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A day is not closed while the consumers that record its transactions are behind: FR01 (filed daily, on the legacy
 * ERP) has a transaction recorded and another published before the close but held by the legacy ERP's consumers,
 * whose circuit breaker is open. The filing job waits past the close instead of filing the day without it (which
 * would move it into a later day's books), and files the day with both once the consumers have read it.
 *
 * <p>The close is made to fall while the test runs: the grace after midnight is set so that yesterday (Paris) closes
 * {@link #CLOSE_AFTER} after the runtime is launched, as the benchmark does.
 */
class LoyaltyFilingGateTest {

    static final Duration CLOSE_AFTER = Duration.ofSeconds(30);
    static RuntimeKit kit;
    static Instant closesAt;

    @BeforeAll
    static void start() throws Exception {
        ZonedDateTime now = ZonedDateTime.now(PARIS);
        Duration grace = Duration.between(now.toLocalDate().atStartOfDay(PARIS), now).plus(CLOSE_AFTER);
        closesAt = now.toInstant().plus(CLOSE_AFTER);
        kit = RuntimeKit.start(Databases.Backend.H2, Map.of("interchange.flows", "loyalty-webhook,billing-ledger",
                "interchange.loyalty.webhook-secret", LoyaltyDailyFilingTest.SECRET,
                "interchange.loyalty.filing-check", "PT1S", "interchange.loyalty.filing-grace", grace.toString(),
                // the breaker opened by the test stays open until the test closes it
                "interchange.erp.breaker.open-wait", "PT5M"));
    }

    @AfterAll
    static void stop() {
        if (kit != null) kit.close();
    }

    @Test
    void aDayWaitsForTheTransactionsItsConsumersStillHoldAndIsFiledWithThem() throws Exception {
        LocalDate yesterday = LocalDate.now(PARIS).minusDays(1);
        Instant noon = yesterday.atTime(12, 0).atZone(PARIS).toInstant();
        LoyaltyFilings filings = kit.runtime.store().loyaltyFilings();
        String holder = customer(kit, "FR01");

        ObjectNode recorded = transaction(holder, 70, noon);
        assertThat(send(kit, recorded)).isEqualTo("accepted");
        await().atMost(Duration.ofSeconds(15)).until(() -> filings.isRecorded(eventId(recorded)));

        // the legacy ERP's breaker opens: its consumers hold what they read, the daily transactions among it
        CircuitBreaker breaker = kit.runtime.camelContext().getRegistry()
                .lookupByNameAndType(ErpBreakers.beanName(LegalEntity.LEGACY), CircuitBreaker.class);
        breaker.transitionToOpenState();
        ObjectNode held = transaction(holder, 30, noon.plusSeconds(3600));
        assertThat(send(kit, held)).isEqualTo("accepted");
        assertThat(Instant.now()).as("published before the day closes (the runtime took too long to start)")
                .isBefore(closesAt.minusSeconds(3));
        Thread.sleep(1500);
        assertThat(filings.isRecorded(eventId(held))).as("held by the legacy consumers while the breaker is open")
                .isFalse();

        // past the close, and several filing checks later, the day is still open: one transaction of it is unread
        long wait = Duration.between(Instant.now(), closesAt.plusSeconds(4)).toMillis();
        if (wait > 0) Thread.sleep(wait);
        String part1 = LoyaltyFilings.filingId("FR01", yesterday, 1);
        assertThat(filings.find(part1)).as("yesterday filed while a transaction of it was still unread").isEmpty();
        assertThat(filings.filingOf(eventId(recorded))).isEmpty();

        // the breaker closes: the consumers read on, record the held transaction, and the day is filed with both
        breaker.transitionToClosedState();
        await().atMost(Duration.ofSeconds(30)).until(() -> postings(kit, "posting:" + part1).size() == 1);
        assertThat(filings.find(part1)).hasValueSatisfying(f -> {
            assertThat(f.transactions()).isEqualTo(2);
            assertThat(f.amountMinor()).as("70 + 30 points at 1 cent").isEqualTo(100);
        });
        assertThat(filings.filingOf(eventId(recorded))).hasValue(part1);
        assertThat(filings.filingOf(eventId(held))).hasValue(part1);
        LegacyErpPeer.Posting entry = postings(kit, "posting:" + part1).get(0);
        assertThat(entry.lines()).hasSize(4);
        for (ObjectNode w : List.of(recorded, held)) {
            assertThat(entry.rawXml()).contains(w.path("data").path("transaction").path("id").asText());
        }
    }
}
