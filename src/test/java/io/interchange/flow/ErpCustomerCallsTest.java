package io.interchange.flow;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.interchange.connectors.erp.ErpAccess;
import io.interchange.connectors.erp.LegacyCustomers;
import io.interchange.connectors.erp.S4BusinessPartners;
import io.interchange.mapping.LegalEntity;
import io.interchange.model.Customer;
import io.interchange.reliability.PermanentFailure;
import io.interchange.reliability.TransientFailure;
import io.interchange.testkit.Databases;
import io.interchange.testkit.Events;
import io.interchange.testkit.RuntimeKit;
import org.apache.camel.ProducerTemplate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The customer sync's requests to the ERPs go through the same {@link ErpAccess} as the ledger's postings: S/4HANA's
 * partner requests and postings together stay within its one rate limit, partner requests that fail open S/4HANA's
 * one circuit breaker, which then refuses partner requests (a transient failure, nothing sent) and holds postings
 * alike, and the legacy ERP's UpsertCustomer names the same customer number each time a customer is sent.
 */
class ErpCustomerCallsTest {

    /** S/4HANA's limit here: low, so that 24 requests take several periods. */
    static final int S4_RATE = 4;
    static RuntimeKit kit;
    static ErpAccess erps;
    static ProducerTemplate template;

    @BeforeAll
    static void start() throws Exception {
        kit = RuntimeKit.start(Databases.Backend.H2, Map.of(
                "interchange.flows", "billing-webhook,billing-ledger,customer-sync",
                "interchange.erp.s4.max-rate", String.valueOf(S4_RATE),
                // one entry per request, so every posting is a request of its own against the limit
                "interchange.erp.s4.bulk-size", "1",
                // an open breaker stays open for the test's checks; the test closes it itself
                "interchange.erp.breaker.open-wait", "PT60S"));
        erps = kit.runtime.erpAccess();
        template = kit.runtime.camelContext().createProducerTemplate();
    }

    @AfterAll
    static void stop() {
        if (template != null) template.stop();
        if (kit != null) kit.close();
    }

    static Customer customer(String globalId) {
        return new Customer(globalId, "person", "Lena", "Schäfer", null, "lena@example.de", null,
                new Customer.PostalAddress("Friedrichstraße", "123", "10117", "Berlin", "BE", "DE"), "DE123456789", "de");
    }

    static List<S4BusinessPartners.PartnerRequest> partner() {
        return List.of(new S4BusinessPartners.PartnerRequest(customer(UUID.randomUUID().toString()), "DE01", "1010"));
    }

    @Test
    void partnerRequestsAndPostingsTogetherStayWithinTheOneRateLimit() throws Exception {
        kit.s4.reset();
        kit.s4.recordArrivals(true);
        int partnerRequests = kit.s4.businessPartners().requests();
        ExecutorService senders = Executors.newFixedThreadPool(4);
        try {
            // postings and partner requests at once: 12 of each, far more than S/4HANA's limit per second
            List<Future<?>> sent = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                sent.add(senders.submit(() -> erps.sendPartners(template, partner())));
                assertThat(kit.sendSigned(Events.bytes(Events.invoicePaid("DE01"))).statusCode()).isEqualTo(200);
            }
            for (Future<?> f : sent) f.get();
            await().atMost(Duration.ofSeconds(60)).until(() -> kit.s4.postings().size() == 12);
        } finally {
            senders.shutdownNow();
            kit.s4.recordArrivals(false);
        }
        assertThat(kit.s4.businessPartners().requests() - partnerRequests).isEqualTo(12);
        long[] arrivals = kit.s4.arrivals();
        assertThat(arrivals.length).isGreaterThanOrEqualTo(24);
        // no 0.9 s window held more than the limit per second (0.1 s allows for the time from the throttle to the peer)
        for (int i = 0; i + S4_RATE < arrivals.length; i++) {
            assertThat(Duration.ofNanos(arrivals[i + S4_RATE] - arrivals[i]))
                    .as("requests %d to %d at S/4HANA", i, i + S4_RATE).isGreaterThanOrEqualTo(Duration.ofMillis(900));
        }
        // one throttle, not one per kind of request: 24 requests at 4 per second span five full periods at least
        assertThat(Duration.ofNanos(arrivals[arrivals.length - 1] - arrivals[0])).isGreaterThanOrEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void failingPartnerRequestsOpenTheBreakerWhichRefusesPartnersAndHoldsPostings() throws Exception {
        CircuitBreaker breaker = erps.breakers().get(LegalEntity.S4HANA);
        kit.s4.reset();
        kit.s4.setAvailable(false);
        try {
            // S/4HANA answers 503: each request fails transiently, and counts against the breaker until it opens
            for (int i = 0; i < 10 && breaker.getState() == CircuitBreaker.State.CLOSED; i++) {
                assertThatThrownBy(() -> erps.sendPartners(template, partner())).isInstanceOf(TransientFailure.class)
                        .hasMessageContaining("503");
            }
            assertThat(breaker.getState()).isEqualTo(CircuitBreaker.State.OPEN);
            int requests = kit.s4.requestCount();

            assertThatThrownBy(() -> erps.sendPartners(template, partner())).isInstanceOf(TransientFailure.class)
                    .isNotInstanceOf(PermanentFailure.class).hasMessageContaining("circuit breaker is open");
            // the posting waits too: the breaker the partner requests opened is the postings' breaker
            assertThat(kit.sendSigned(Events.bytes(Events.invoicePaid("DE01"))).statusCode()).isEqualTo(200);
            Thread.sleep(1500);
            assertThat(kit.s4.requestCount()).as("requests sent while the breaker is open").isEqualTo(requests);

            kit.s4.setAvailable(true);
            breaker.transitionToClosedState();
            await().atMost(Duration.ofSeconds(30)).until(() -> kit.s4.postings().size() == 1);
            erps.sendPartners(template, partner());
        } finally {
            kit.s4.setAvailable(true);
            breaker.reset();
        }
    }

    @Test
    void aLegacyCustomerSentAgainKeepsItsNumber() {
        String gid = UUID.randomUUID().toString();
        LegacyCustomers.Answer first = erps.upsertLegacyCustomer(template, customer(gid), "FR01", "FR-01");
        assertThat(first.created()).isTrue();
        assertThat(first.customerNumber()).isNotBlank();

        LegacyCustomers.Answer again = erps.upsertLegacyCustomer(template, customer(gid), "FR01", "FR-01");
        assertThat(again.created()).isFalse();
        assertThat(again.customerNumber()).isEqualTo(first.customerNumber());
        assertThat(kit.legacy.customers().stream().filter(c -> c.externalKey().equals(gid))).hasSize(1);

        // a company the legacy ERP does not know is a permanent failure, and an answer to the breaker
        assertThatThrownBy(() -> erps.upsertLegacyCustomer(template, customer(gid), "XX01", "XX-01"))
                .isInstanceOf(PermanentFailure.class).hasMessageContaining("Unknown company XX-01");
        assertThat(erps.breakers().get(LegalEntity.LEGACY).getState()).isEqualTo(CircuitBreaker.State.CLOSED);
    }
}
