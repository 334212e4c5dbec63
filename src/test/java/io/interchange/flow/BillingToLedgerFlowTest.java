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
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The billing flow end to end on real Kafka, PostgreSQL and SOAP peers: webhook in, journal entry out, once. */
class BillingToLedgerFlowTest {

    static RuntimeKit kit;
    static final ObjectMapper JSON = new ObjectMapper();

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
    void signedInvoicePaidPostsOneBalancedJournalEntryAndPublishesOneCanonicalEvent() throws Exception {
        ObjectNode event = Events.invoicePaid("DE01");
        String id = event.get("id").asText();

        HttpResponse<String> answer = kit.sendSigned(Events.bytes(event));

        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(JSON.readTree(answer.body()).path("status").asText()).isEqualTo("accepted");
        await().atMost(Duration.ofSeconds(30)).until(() -> kit.s4.postings().size() == 1);
        S4HanaPeer.Posting posting = kit.s4.postings().get(0);
        assertThat(posting.companyCode()).isEqualTo("1010");
        assertThat(posting.currency()).isEqualTo("EUR");
        assertThat(posting.lines()).extracting(S4HanaPeer.Line::amount)
                .containsExactly(new BigDecimal("119.00"), new BigDecimal("-119.00"));
        assertThat(posting.lines().stream().map(S4HanaPeer.Line::amount).reduce(BigDecimal.ZERO, BigDecimal::add))
                .isZero();
        assertThat(posting.lines()).extracting(S4HanaPeer.Line::glAccount).containsExactly("11001020", "12600000");

        List<ConsumerRecord<String, byte[]>> records = recordsFor("interchange.billing.v1", id);
        assertThat(records).hasSize(1);
        ConsumerRecord<String, byte[]> r = records.get(0);
        assertThat(r.key()).isEqualTo("cust-000042");
        assertThat(RuntimeKit.header(r, "ce_specversion")).isEqualTo("1.0");
        assertThat(RuntimeKit.header(r, "ce_type")).isEqualTo("io.interchange.billing.payment.succeeded");
        assertThat(RuntimeKit.header(r, "ce_source")).isEqualTo("/billing/stripe");
        assertThat(RuntimeKit.header(r, "ce_legalentity")).isEqualTo("DE01");
        assertThat(RuntimeKit.header(r, "ce_correlationid")).isNotBlank();
        assertThat(JSON.readTree(r.value()).path("amountMinor").asLong()).isEqualTo(11900);

        await().atMost(Duration.ofSeconds(10)).until(() ->
                kit.runtime.store().confirmations().find(LedgerPostingService.postingKey(id)).isPresent());
        var confirmation = kit.runtime.store().confirmations().find(LedgerPostingService.postingKey(id)).orElseThrow();
        assertThat(confirmation.accountingDocument()).isEqualTo(posting.accountingDocument());
        assertThat(confirmation.fiscalYear()).isEqualTo(posting.fiscalYear());
        List<ConsumerRecord<String, byte[]>> confirmations = kit.readTopic("interchange.ledger.v1", Duration.ofSeconds(2))
                .stream().filter(c -> json(c.value()).path("sourceEventId").asText().equals(id)).toList();
        assertThat(confirmations).hasSize(1);
        assertThat(JSON.readTree(confirmations.get(0).value()).path("accountingDocument").asText())
                .isEqualTo(posting.accountingDocument());
    }

    @Test
    void anEntityNotYetCutOverPostsToTheLegacyErp() throws Exception {
        ObjectNode event = Events.invoiceFinalized("FR01");
        assertThat(kit.sendSigned(Events.bytes(event)).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> kit.legacy.postings().size() == 1);
        assertThat(kit.legacy.postings().get(0).company()).isEqualTo("FR-01");
        assertThat(kit.s4.postings()).isEmpty();
    }

    @Test
    void theSameEventDeliveredTwiceOrConcurrentlyPostsOnce() throws Exception {
        ObjectNode event = Events.invoicePaid("DE01");
        byte[] body = Events.bytes(event);
        assertThat(kit.sendSigned(body).statusCode()).isEqualTo(200);
        HttpResponse<String> second = kit.sendSigned(body);
        assertThat(second.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(second.body()).path("status").asText()).isEqualTo("duplicate");

        ObjectNode concurrent = Events.invoicePaid("DE01");
        byte[] concurrentBody = Events.bytes(concurrent);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<HttpResponse<String>>> answers = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            answers.add(pool.submit((Callable<HttpResponse<String>>) () -> kit.sendSigned(concurrentBody)));
        }
        List<Integer> statuses = new ArrayList<>();
        List<String> outcomes = new ArrayList<>();
        for (Future<HttpResponse<String>> f : answers) {
            HttpResponse<String> a = f.get();
            statuses.add(a.statusCode());
            outcomes.add(JSON.readTree(a.body()).path("status").asText());
        }
        pool.shutdown();
        // one delivery publishes it; the others find it done (200) or still in progress (409, the sender retries)
        assertThat(statuses).isSubsetOf(200, 409);
        // whether any finds it done already depends on timing: every one may arrive while the first holds it
        assertThat(outcomes).isSubsetOf("accepted", "duplicate", "in-progress");
        assertThat(outcomes).filteredOn("accepted"::equals).hasSize(1);

        await().atMost(Duration.ofSeconds(30)).until(() -> kit.s4.postings().size() == 2);
        Thread.sleep(1500);
        assertThat(kit.s4.postings()).hasSize(2);
        assertThat(kit.s4.requestCount()).as("each posting sent once, not deduplicated by the ERP").isEqualTo(2);
        assertThat(recordsFor("interchange.billing.v1", event.get("id").asText())).hasSize(1);
        assertThat(recordsFor("interchange.billing.v1", concurrent.get("id").asText())).hasSize(1);
    }

    @Test
    void badInputIsRefusedWithAReasonAndLeavesNothingBehind() throws Exception {
        ObjectNode event = Events.invoicePaid("DE01");
        byte[] body = Events.bytes(event);
        long now = Instant.now().getEpochSecond();

        var wrongSecret = kit.postWebhook(body, RuntimeKit.sign("whsec_wrong", now, body));
        assertThat(wrongSecret.statusCode()).isEqualTo(400);
        assertThat(wrongSecret.body()).contains("no v1 signature matches");

        var stale = kit.postWebhook(body, RuntimeKit.sign(RuntimeKit.SECRET, now - 600, body));
        assertThat(stale.statusCode()).isEqualTo(400);
        assertThat(stale.body()).contains("outside the tolerance");

        var unsigned = kit.postWebhook(body, null);
        assertThat(unsigned.statusCode()).isEqualTo(400);
        assertThat(unsigned.body()).contains("missing Stripe-Signature header");

        byte[] malformed = "{\"id\": \"evt_1\", \"type\": ".getBytes();
        var bad = kit.sendSigned(malformed);
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("malformed JSON");

        ObjectNode wrongType = Events.invoicePaid("DE01");
        ((ObjectNode) wrongType.path("data").path("object")).put("amount_paid", "11900");
        var notStripe = kit.sendSigned(Events.bytes(wrongType));
        assertThat(notStripe.statusCode()).isEqualTo(400);
        assertThat(notStripe.body()).contains("data.object.amount_paid is a string, not integer");

        Thread.sleep(1500);
        for (ObjectNode e : List.of(event, wrongType)) {
            String id = e.get("id").asText();
            assertThat(kit.runtime.store().idempotency().state("billing:stripe:" + id)).isNull();
            assertThat(recordsFor("interchange.billing.v1", id)).isEmpty();
        }
        assertThat(kit.s4.postings()).isEmpty();
    }

    @Test
    void aGenuineEventThatCannotBeProcessedIsAcknowledgedParkedAndPostedOnceOnReplay() throws Exception {
        // Stripe copies no metadata to related objects: an invoice without legal_entity is genuine, not malformed
        ObjectNode noEntity = Events.invoicePaid("DE01");
        ((ObjectNode) noEntity.path("data").path("object").path("metadata")).remove("legal_entity");
        // an invoice this runtime has not seen (one it published before would lend its entity: rule related-object)
        ((ObjectNode) noEntity.path("data").path("object")).put("id", "in_" + noEntity.get("id").asText().substring(4));
        String id = noEntity.get("id").asText();
        var parked = kit.sendSigned(Events.bytes(noEntity));
        assertThat(parked.statusCode()).as(parked.body()).isEqualTo(200);
        assertThat(JSON.readTree(parked.body()).path("status").asText()).isEqualTo("parked");
        assertThat(JSON.readTree(parked.body()).path("reason").asText()).contains("no legal entity found");
        // a second delivery of the same event is not parked twice
        assertThat(kit.sendSigned(Events.bytes(noEntity)).statusCode()).isEqualTo(200);
        List<DeadLetter> open = kit.runtime.store().deadLetters().list("billing.stripe-event", DeadLetter.OPEN, 10)
                .stream().filter(d -> ("billing:stripe:" + id).equals(d.idempotencyKey())).toList();
        assertThat(open).singleElement().satisfies(d -> {
            assertThat(d.failureKind()).isEqualTo("PERMANENT");
            assertThat(d.errorMessage()).contains("tried object.metadata, subscription.metadata");
        });
        assertThat(recordsFor("interchange.billing.v1", id)).isEmpty();
        assertThat(kit.runtime.store().idempotency().state("billing:stripe:" + id)).isNull();

        // the merchant's fix (here: the table of Connect accounts would do too) is a corrected event; the replay of
        // the original still parks, and says so, until the cause is fixed
        var operations = new io.interchange.management.DeadLetterOperations(kit.runtime.camelContext(),
                kit.runtime.store().deadLetters(), kit.runtime.store().audit());
        assertThat(operations.replay(open.get(0).id())).contains("failed again").contains("no legal entity found");

        // a genuine event whose customer is null (a deleted customer, a guest) is accepted: the customer is optional
        ObjectNode noCustomer = Events.invoicePaid("DE01");
        ((ObjectNode) noCustomer.path("data").path("object")).putNull("customer");
        var accepted = kit.sendSigned(Events.bytes(noCustomer));
        assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(200);
        assertThat(JSON.readTree(accepted.body()).path("status").asText()).isEqualTo("accepted");
        await().atMost(Duration.ofSeconds(30)).until(() -> kit.s4.postings().size() == 1);
    }

    @Test
    void aRefundThatArrivesBeforeItsPaymentIsParkedAndPostedOnceWhenReplayedAfterThePayment() throws Exception {
        // Stripe does not order deliveries: the refund of a payment may come first, and names only the charge
        String suffix = Long.toString(System.nanoTime(), 36);
        ObjectNode paid = Events.invoicePaid("DE01");
        ObjectNode invoice = (ObjectNode) paid.path("data").path("object");
        invoice.put("id", "in_order" + suffix).put("charge", "ch_order" + suffix).put("payment_intent", "pi_order" + suffix);
        ObjectNode refund = Events.refundCreated("DE01");
        ObjectNode refundObject = (ObjectNode) refund.path("data").path("object");
        refundObject.putObject("metadata"); // as Stripe sends it: no legal_entity of its own
        refundObject.put("charge", "ch_order" + suffix).put("payment_intent", "pi_order" + suffix);
        String refundEvent = refund.get("id").asText();

        var early = JSON.readTree(kit.sendSigned(Events.bytes(refund)).body());
        assertThat(early.path("status").asText()).isEqualTo("parked");
        long deadLetter = early.path("deadLetter").asLong();
        assertThat(JSON.readTree(kit.sendSigned(Events.bytes(paid)).body()).path("status").asText()).isEqualTo("accepted");

        var operations = new io.interchange.management.DeadLetterOperations(kit.runtime.camelContext(),
                kit.runtime.store().deadLetters(), kit.runtime.store().audit());
        assertThat(operations.replay(deadLetter)).startsWith("replayed");
        await().atMost(Duration.ofSeconds(30)).until(() ->
                kit.runtime.store().confirmations().find(LedgerPostingService.postingKey(refundEvent)).isPresent());
        assertThat(kit.runtime.store().confirmations().find(LedgerPostingService.postingKey(refundEvent)).orElseThrow()
                .legalEntity()).isEqualTo("DE01");
        List<ConsumerRecord<String, byte[]>> records = recordsFor("interchange.billing.v1", refundEvent);
        assertThat(records).hasSize(1);
        assertThat(RuntimeKit.header(records.get(0), "ce_legalentityrule")).isEqualTo("related-object");
        // a second replay, or a redelivery by Stripe, has no second effect
        assertThat(JSON.readTree(kit.sendSigned(Events.bytes(refund)).body()).path("status").asText()).isEqualTo("duplicate");
        assertThat(recordsFor("interchange.billing.v1", refundEvent)).hasSize(1);
    }

    @Test
    void eventTypesWithoutEffectAreAcknowledgedAndLeaveNothingBehind() throws Exception {
        ObjectNode updated = Events.invoicePaid("DE01");
        updated.put("type", "invoice.updated");
        String id = updated.get("id").asText();
        var answer = kit.sendSigned(Events.bytes(updated));
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(answer.body()).path("status").asText()).isEqualTo("ignored");
        Thread.sleep(500);
        assertThat(recordsFor("interchange.billing.v1", id)).isEmpty();
        assertThat(kit.runtime.store().idempotency().state("billing:stripe:" + id)).isNull();
        assertThat(kit.runtime.store().deadLetters().list(null, DeadLetter.OPEN, 100))
                .noneMatch(d -> ("billing:stripe:" + id).equals(d.idempotencyKey()));
        // operators see what was acknowledged without effect, by outcome and type
        String metrics = kit.get("/observe/metrics").body();
        assertThat(metrics).containsPattern("interchange_billing_events_acknowledged_total\\{[^}]*outcome=\"ignored\""
                + "[^}]*type=\"invoice.updated\"[^}]*} [1-9]");
    }

    @Test
    void unknownLegalEntityIsDeadLetteredWithThatReason() throws Exception {
        ObjectNode event = Events.invoicePaid("ZZ99");
        String id = event.get("id").asText();
        assertThat(kit.sendSigned(Events.bytes(event)).statusCode()).isEqualTo(200);
        DeadLetter dl = awaitDeadLetter(id);
        assertThat(dl.errorMessage()).contains("unknown legal entity 'ZZ99'");
        assertThat(dl.failureKind()).isEqualTo("PERMANENT");
        assertThat(dl.attempts()).isEqualTo(1);
        assertThat(dl.routeId()).isEqualTo("billing.ledger-posting");
        assertThat(dl.correlationId()).isNotBlank();
        assertThat(JSON.readTree(dl.payload()).path("amountMinor").asLong()).isEqualTo(11900);
        assertThat(dl.headers()).containsEntry("ce_id", id);
        assertThat(kit.s4.postings()).isEmpty();
    }

    @Test
    void erpAnswering503ForAWhileIsPostedOnceAfterRetries() throws Exception {
        kit.s4.failNext(3, 503);
        ObjectNode event = Events.invoicePaid("DE01");
        assertThat(kit.sendSigned(Events.bytes(event)).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> kit.s4.postings().size() == 1);
        assertThat(kit.s4.requestCount()).isEqualTo(4);
        Thread.sleep(1000);
        assertThat(kit.s4.postings()).hasSize(1);
    }

    @Test
    void erpBusinessFaultIsDeadLetteredWithoutRetries() throws Exception {
        // US01 is cut over to company code 1710; this peer rejects the posting as a business error when it is unknown
        ObjectNode event = Events.invoicePaid("US01");
        ((ObjectNode) event.path("data").path("object")).put("currency", "usd");
        String id = event.get("id").asText();
        kit.s4.forgetCompanyCode("1710");
        try {
            assertThat(kit.sendSigned(Events.bytes(event)).statusCode()).isEqualTo(200);
            DeadLetter dl = awaitDeadLetter(id);
            assertThat(dl.errorMessage()).contains("S/4HANA rejected the journal entry").contains("1710");
            assertThat(dl.failureKind()).isEqualTo("PERMANENT");
            assertThat(dl.attempts()).isEqualTo(1);
            assertThat(kit.s4.requestCount()).isEqualTo(1);
            assertThat(kit.s4.postings()).isEmpty();
        } finally {
            kit.s4.knowCompanyCode("1710", "USD");
        }
    }

    private DeadLetter awaitDeadLetter(String eventId) {
        await().atMost(Duration.ofSeconds(30)).until(() -> findDeadLetter(eventId) != null);
        return findDeadLetter(eventId);
    }

    static DeadLetter findDeadLetter(String eventId) {
        return kit.runtime.store().deadLetters().list(null, DeadLetter.OPEN, 1000).stream()
                .filter(d -> eventId.equals(d.headers().get("ce_id"))).findFirst().orElse(null);
    }

    private List<ConsumerRecord<String, byte[]>> recordsFor(String topic, String ceId) {
        return kit.readTopic(topic, Duration.ofSeconds(2)).stream()
                .filter(r -> ceId.equals(RuntimeKit.header(r, "ce_id"))).toList();
    }

    static JsonNode json(byte[] b) {
        try {
            return JSON.readTree(b);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
