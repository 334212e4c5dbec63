package io.interchange.flow;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.config.Settings;
import io.interchange.ledger.LedgerPostingService;
import io.interchange.routes.LedgerPostingRoute;
import io.interchange.sandbox.S4HanaPeer;
import io.interchange.sandbox.SoapPeerSupport;
import io.interchange.store.DeadLetter;
import io.interchange.store.ErpConfirmations;
import io.interchange.testkit.Databases;
import io.interchange.testkit.Events;
import io.interchange.testkit.RuntimeKit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A backlog of billing events reaches S/4HANA in JournalEntryBulkCreateRequests (bulk size 50 by default), on real
 * Kafka, PostgreSQL and the SOAP peer: each entry posted, recorded and published once; an entry S/4HANA rejects
 * dead-lettered alone without being sent again; a bulk request that fails as a whole retried entry by entry; several
 * requests of a poll in flight at once, a customer's events never in two of them and posted in their order.
 */
class LedgerBulkPostingTest {

    static RuntimeKit kit;

    @BeforeAll
    static void start() throws Exception {
        // one consumer thread per target: requests overlapping at the peer can only be one poll's requests in flight
        kit = RuntimeKit.start(Databases.Backend.POSTGRES, Map.of(Settings.LEDGER_CONSUMERS.key(), "1"));
    }

    @AfterAll
    static void stop() {
        if (kit != null) kit.close();
    }

    @BeforeEach
    void resetPeers() {
        kit.s4.reset();
        kit.legacy.reset();
    }

    @Test
    void aBacklogIsPostedInBulkRequestsEachEntryOnceAndTheLegacyErpOneJournalPerRequest() throws Exception {
        List<String> s4Events = new ArrayList<>();
        List<String> legacyEvents = new ArrayList<>();
        int ledgerRecordsBefore = ledgerRecords().size();
        backlog(() -> {
            for (int i = 0; i < 120; i++) s4Events.add(send(Events.invoicePaid("DE01")));
            // FR01 has no cut-over date: the legacy ERP, which takes one journal per request
            for (int i = 0; i < 5; i++) legacyEvents.add(send(Events.invoicePaid("FR01")));
        });

        Set<String> all = new HashSet<>(s4Events);
        all.addAll(legacyEvents);
        // the peers post first, the runtime records their confirmations after
        await().atMost(Duration.ofSeconds(60)).until(() -> all.stream().allMatch(id ->
                kit.runtime.store().confirmations().find(LedgerPostingService.postingKey(id)).isPresent()));

        assertThat(kit.s4.postings()).hasSize(120);
        assertThat(kit.legacy.postings()).hasSize(5);
        // 120 entries in bulks of at most 50: three requests if one poll took them all, a few more if polls split them
        assertThat(kit.s4.requestCount()).isBetween(3, 10);
        assertThat(kit.s4.postings().stream().map(S4HanaPeer.Posting::uuid).distinct()).hasSize(120);
        assertThat(kit.s4.idempotentReplays()).isZero();
        assertThat(kit.legacy.requestCount()).isEqualTo(5);
        await().atMost(Duration.ofSeconds(10)).until(() -> ledgerRecords().size() - ledgerRecordsBefore >= all.size());
        Map<String, Long> published = ledgerRecords().stream().map(LedgerBulkPostingTest::sourceEventId)
                .filter(all::contains).collect(Collectors.groupingBy(id -> id, Collectors.counting()));
        assertThat(published).hasSize(all.size());
        assertThat(published.values()).allMatch(n -> n == 1);
    }

    @Test
    void anEntryRejectedInABulkIsDeadLetteredAloneWithoutAnotherRequestAndTheOthersArePosted() throws Exception {
        // US01 is cut over to company code 1710; the peer rejects that entry as a business error when it is unknown
        kit.s4.forgetCompanyCode("1710");
        try {
            String[] rejected = new String[1];
            backlog(() -> {
                for (int i = 0; i < 10; i++) send(Events.invoicePaid("DE01"));
                ObjectNode us = Events.invoicePaid("US01");
                ((ObjectNode) us.path("data").path("object")).put("currency", "usd");
                rejected[0] = send(us);
                for (int i = 0; i < 10; i++) send(Events.invoicePaid("DE01"));
            });

            await().atMost(Duration.ofSeconds(30)).until(() -> findDeadLetter(rejected[0]) != null
                    && kit.s4.postings().size() == 20);
            DeadLetter dl = findDeadLetter(rejected[0]);
            assertThat(dl.errorMessage()).contains("S/4HANA rejected the journal entry").contains("1710");
            assertThat(dl.failureKind()).isEqualTo("PERMANENT");
            assertThat(dl.attempts()).isEqualTo(1);
            assertThat(dl.routeId()).isEqualTo(LedgerPostingRoute.ROUTE_ID);
            // the entry was rejected inside a bulk request and not sent again alone
            int requests = kit.s4.requestCount();
            Thread.sleep(1000);
            assertThat(kit.s4.requestCount()).isEqualTo(requests).isLessThanOrEqualTo(3);
            assertThat(kit.s4.rejections()).hasSize(1);
        } finally {
            kit.s4.knowCompanyCode("1710", "USD");
        }
    }

    @Test
    void aBulkRequestThatFailsAsAWholeIsRetriedEntryByEntryAndEachIsPostedOnce() throws Exception {
        kit.s4.failNext(1, 503);
        List<String> events = new ArrayList<>();
        backlog(() -> {
            for (int i = 0; i < 15; i++) events.add(send(Events.invoicePaid("DE01")));
        });

        await().atMost(Duration.ofSeconds(30)).until(() -> kit.s4.postings().size() == 15);
        Thread.sleep(1000);
        assertThat(kit.s4.postings()).hasSize(15);
        assertThat(kit.s4.postings().stream().map(S4HanaPeer.Posting::uuid).distinct()).hasSize(15);
        // the failed bulk, then its entries one by one (the 503 was their first attempt), or fewer if polls split them
        assertThat(kit.s4.requestCount()).isBetween(2, 16);
        for (String id : events) assertThat(findDeadLetter(id)).isNull();
    }


    @Test
    void severalBulkRequestsOfAPollAreInFlightAtOnceAndEachEntryIsPostedOnce() throws Exception {
        // slow answers, so that requests sent at once overlap at the peer
        kit.s4.setDelay(Duration.ofMillis(200));
        int ledgerRecordsBefore = ledgerRecords().size();
        Map<String, List<String>> byCustomer = new LinkedHashMap<>();
        // 200 entries of 20 customers on three partitions: however polls split them, one holds more than a request
        backlog(() -> byCustomer.putAll(sendForCustomers(kit, 20, 10)));
        List<String> all = byCustomer.values().stream().flatMap(List::stream).toList();
        awaitConfirmed(kit, all);

        // in bulks of at most 50, up to interchange.ledger.requests-in-flight (4) at once
        assertThat(kit.s4.maxRequestsInFlight()).isBetween(2, 4);
        assertThat(kit.s4.postings()).hasSize(all.size());
        assertThat(kit.s4.postings().stream().map(S4HanaPeer.Posting::uuid).distinct()).hasSize(all.size());
        assertThat(kit.s4.idempotentReplays()).isZero();
        assertThat(kit.s4.readCount()).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> ledgerRecords().size() - ledgerRecordsBefore >= all.size());
        Map<String, Long> published = ledgerRecords().stream().map(LedgerBulkPostingTest::sourceEventId)
                .filter(new HashSet<>(all)::contains).collect(Collectors.groupingBy(id -> id, Collectors.counting()));
        assertThat(published).hasSize(all.size());
        assertThat(published.values()).allMatch(n -> n == 1);
        assertPostedInOrderPerCustomer(kit, byCustomer);
    }

    @Test
    void aCustomersEventsAreNeverInTwoRequestsAtOnceAndReachTheErpInTheirOrderAcrossRequests() throws Exception {
        kit.s4.setDelay(Duration.ofMillis(50));
        Map<String, List<String>> byCustomer = new LinkedHashMap<>();
        // 300 entries: four lanes of about 75, each sending two requests one after another
        backlog(() -> byCustomer.putAll(sendForCustomers(kit, 12, 25)));
        awaitConfirmed(kit, byCustomer.values().stream().flatMap(List::stream).toList());

        assertThat(kit.s4.maxRequestsInFlight()).isGreaterThan(1);
        assertThat(kit.s4.postings()).hasSize(300);
        assertPostedInOrderPerCustomer(kit, byCustomer);
    }

    @Test
    void whenABulkRequestFailsItsCustomersLaterEventsFollowOneByOneInTheirOrder() throws Exception {
        // the first request to arrive fails as a whole: its entries, and their customers' later ones, go one by one;
        // two customers of 60 events each, so that the lane of the failed request has a later one (50 + 10 entries)
        kit.s4.failNext(1, 503);
        Map<String, List<String>> byCustomer = new LinkedHashMap<>();
        backlog(() -> byCustomer.putAll(sendForCustomers(kit, 2, 60)));
        List<String> all = byCustomer.values().stream().flatMap(List::stream).toList();
        awaitConfirmed(kit, all);

        assertThat(kit.s4.postings()).hasSize(all.size());
        assertThat(kit.s4.postings().stream().map(S4HanaPeer.Posting::uuid).distinct()).hasSize(all.size());
        // the single route read the ledger before posting each entry of the failed request again
        assertThat(kit.s4.readCount()).isPositive();
        for (String id : all) assertThat(findDeadLetter(id)).isNull();
        assertPostedInOrderPerCustomer(kit, byCustomer);
    }

    @Test
    void whenTheBreakerOpensWhileLanesAreSendingTheirLaterRequestsAreHeldAndEveryEntryIsPostedOnceInOrderAfter()
            throws Exception {
        // the lanes' first requests fail at once and open the breaker (3 calls, 50 %): their later ones, of customers
        // the first did not carry (each customer's events one after another), come back held
        kit.s4.setAvailable(false);
        Map<String, List<String>> byCustomer = new LinkedHashMap<>();
        backlog(() -> byCustomer.putAll(sendCustomerByCustomer(kit, 60, 4)));
        List<String> all = byCustomer.values().stream().flatMap(List::stream).toList();
        await().atMost(Duration.ofSeconds(20)).until(() -> kit.s4.requestCount() >= 3);
        Thread.sleep(1500);
        assertThat(kit.s4.postings()).isEmpty();
        kit.s4.setAvailable(true);
        awaitConfirmed(kit, all);

        assertThat(kit.s4.postings()).hasSize(all.size());
        assertThat(kit.s4.postings().stream().map(S4HanaPeer.Posting::uuid).distinct()).hasSize(all.size());
        for (String id : all) assertThat(findDeadLetter(id)).isNull();
        assertPostedInOrderPerCustomer(kit, byCustomer);
    }

    @Test
    void withOneRequestInFlightAPollsRequestsGoOneAfterAnother() throws Exception {
        try (RuntimeKit serial = RuntimeKit.start(Databases.Backend.POSTGRES, Map.of(
                Settings.LEDGER_REQUESTS_IN_FLIGHT.key(), "1", Settings.LEDGER_CONSUMERS.key(), "1"))) {
            serial.s4.setDelay(Duration.ofMillis(50));
            Map<String, List<String>> byCustomer = new LinkedHashMap<>();
            backlog(serial, () -> byCustomer.putAll(sendForCustomers(serial, 12, 10)));
            awaitConfirmed(serial, byCustomer.values().stream().flatMap(List::stream).toList());

            assertThat(serial.s4.maxRequestsInFlight()).isEqualTo(1);
            assertThat(serial.s4.postings()).hasSize(120);
            assertThat(serial.s4.requestCount()).isBetween(3, 10);
            assertPostedInOrderPerCustomer(serial, byCustomer);
        }
    }

    /**
     * {@code customers} customers' invoices, {@code each} per customer, sent taking turns (customer 1, 2, ..., 1, 2,
     * ...) so that every request of a poll holds several customers' events; the event ids per customer, in order.
     */
    private static Map<String, List<String>> sendForCustomers(RuntimeKit target, int customers, int each) {
        return send(target, customers, each, true);
    }

    /** As {@link #sendForCustomers}, but each customer's events one after another, then the next customer's. */
    private static Map<String, List<String>> sendCustomerByCustomer(RuntimeKit target, int customers, int each) {
        return send(target, customers, each, false);
    }

    private static Map<String, List<String>> send(RuntimeKit target, int customers, int each, boolean takingTurns) {
        String run = java.util.UUID.randomUUID().toString().substring(0, 8);
        Map<String, List<String>> byCustomer = new LinkedHashMap<>();
        for (int n = 0; n < customers * each; n++) {
            String customer = "cust-" + run + "-" + (takingTurns ? n % customers : n / each);
            ObjectNode event = Events.invoicePaid("DE01");
            ((ObjectNode) event.path("data").path("object").path("metadata")).put("global_customer_id", customer);
            byCustomer.computeIfAbsent(customer, k -> new ArrayList<>()).add(send(target, event));
        }
        return byCustomer;
    }

    private static void awaitConfirmed(RuntimeKit target, List<String> events) {
        await().atMost(Duration.ofSeconds(90)).until(() -> events.stream().allMatch(id ->
                target.runtime.store().confirmations().find(LedgerPostingService.postingKey(id)).isPresent()));
    }

    /**
     * Each customer's entries were posted by the ERP in the order its events were sent, and no two requests that
     * carried entries of the same customer were in flight at once.
     */
    private static void assertPostedInOrderPerCustomer(RuntimeKit target, Map<String, List<String>> byCustomer) {
        Map<String, Integer> positionOfDocument = new HashMap<>();
        List<S4HanaPeer.Posting> postings = target.s4.postings();
        for (int i = 0; i < postings.size(); i++) positionOfDocument.put(postings.get(i).accountingDocument(), i);
        Map<String, SoapPeerSupport.Call<S4HanaPeer.Posting>> callOfDocument = new HashMap<>();
        for (var call : target.s4.calls()) {
            for (S4HanaPeer.Posting p : call.posted()) callOfDocument.put(p.accountingDocument(), call);
        }
        for (var customer : byCustomer.entrySet()) {
            List<Integer> positions = new ArrayList<>();
            List<SoapPeerSupport.Call<S4HanaPeer.Posting>> calls = new ArrayList<>();
            for (String id : customer.getValue()) {
                String document = target.runtime.store().confirmations().find(LedgerPostingService.postingKey(id))
                        .map(ErpConfirmations.Confirmation::accountingDocument).orElseThrow();
                positions.add(positionOfDocument.get(document));
                var call = callOfDocument.get(document);
                if (!calls.contains(call)) calls.add(call);
            }
            assertThat(positions).as("positions at the ERP of %s's entries", customer.getKey()).doesNotContainNull()
                    .isSorted().doesNotHaveDuplicates();
            for (int i = 0; i < calls.size(); i++) {
                for (int j = i + 1; j < calls.size(); j++) {
                    assertThat(calls.get(i).overlaps(calls.get(j)))
                            .as("two requests with entries of %s in flight at once", customer.getKey()).isFalse();
                }
            }
        }
    }

    /** Events sent while the ledger consumers are stopped, so that they wait on the topic as one backlog. */
    private static void backlog(ThrowingRunnable send) throws Exception {
        backlog(kit, send);
    }

    private static void backlog(RuntimeKit target, ThrowingRunnable send) throws Exception {
        var routes = target.runtime.camelContext().getRouteController();
        List<String> consumers = List.of(LedgerPostingRoute.consumerId("S4HANA"), LedgerPostingRoute.consumerId("LEGACY"));
        for (String id : consumers) routes.stopRoute(id);
        try {
            send.run();
        } finally {
            for (String id : consumers) routes.startRoute(id);
        }
    }

    private static String send(ObjectNode event) {
        return send(kit, event);
    }

    private static String send(RuntimeKit target, ObjectNode event) {
        try {
            assertThat(target.sendSigned(Events.bytes(event)).statusCode()).isEqualTo(200);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return event.get("id").asText();
    }

    private static DeadLetter findDeadLetter(String eventId) {
        return kit.runtime.store().deadLetters().list(null, DeadLetter.OPEN, 1000).stream()
                .filter(d -> eventId.equals(d.headers().get("ce_id"))).findFirst().orElse(null);
    }

    private static List<ConsumerRecord<String, byte[]>> ledgerRecords() {
        return kit.readTopic("interchange.ledger.v1", Duration.ofSeconds(1));
    }

    private static String sourceEventId(ConsumerRecord<String, byte[]> r) {
        return BillingToLedgerFlowTest.json(r.value()).path("sourceEventId").asText();
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }
}
