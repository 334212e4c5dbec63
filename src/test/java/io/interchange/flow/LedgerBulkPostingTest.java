package io.interchange.flow;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.ledger.LedgerPostingService;
import io.interchange.routes.LedgerPostingRoute;
import io.interchange.sandbox.S4HanaPeer;
import io.interchange.store.DeadLetter;
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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A backlog of billing events reaches S/4HANA in JournalEntryBulkCreateRequests (bulk size 50 by default), on real
 * Kafka, PostgreSQL and the SOAP peer: each entry posted, recorded and published once; an entry S/4HANA rejects
 * dead-lettered alone without being sent again; a bulk request that fails as a whole retried entry by entry.
 */
class LedgerBulkPostingTest {

    static RuntimeKit kit;

    @BeforeAll
    static void start() throws Exception {
        kit = RuntimeKit.start(Databases.Backend.POSTGRES, Map.of());
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

    /** Events sent while the ledger consumers are stopped, so that they wait on the topic as one backlog. */
    private static void backlog(ThrowingRunnable send) throws Exception {
        var routes = kit.runtime.camelContext().getRouteController();
        List<String> consumers = List.of(LedgerPostingRoute.consumerId("S4HANA"), LedgerPostingRoute.consumerId("LEGACY"));
        for (String id : consumers) routes.stopRoute(id);
        try {
            send.run();
        } finally {
            for (String id : consumers) routes.startRoute(id);
        }
    }

    private static String send(ObjectNode event) {
        try {
            assertThat(kit.sendSigned(Events.bytes(event)).statusCode()).isEqualTo(200);
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
