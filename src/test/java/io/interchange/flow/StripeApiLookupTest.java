package io.interchange.flow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.sandbox.StripeApiPeer;
import io.interchange.store.DeadLetter;
import io.interchange.testkit.Databases;
import io.interchange.testkit.RuntimeKit;
import io.interchange.testkit.StripeFixtures;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Where an event is not enough, the billing platform's REST API is read (here the in-process peer that serves
 * Stripe's endpoints, authentication, pagination and rate limits): the rest of an invoice's lines when the event says
 * {@code has_more}, a customer's metadata for its legal entity. A rate limit is waited out, a server error is a 503 to
 * the sender (retried), a refused key parks the event.
 */
class StripeApiLookupTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String KEY = "sk_test_" + UUID.randomUUID().toString().replace("-", "");
    static StripeApiPeer api;
    static RuntimeKit kit;

    @BeforeAll
    static void start() throws Exception {
        api = new StripeApiPeer(0, KEY).start();
        kit = RuntimeKit.start(Databases.Backend.H2, Map.of("interchange.billing.api-url", api.url(),
                "interchange.billing.api-key", KEY));
    }

    @AfterAll
    static void stop() {
        if (kit != null) kit.close();
        if (api != null) api.close();
    }

    @Test
    void anInvoiceWithMoreLinesThanTheEventHoldsIsCompletedFromTheApiWaitingOutItsRateLimit() throws Exception {
        for (String family : List.of("2024-06-20", "dahlia")) {
            Path file = StripeFixtures.CORPUS.resolve(family).resolve("invoice-finalized-has-more.json");
            JsonNode event = JSON.readTree(file.toFile());
            JsonNode invoice = event.path("data").path("object");
            List<JsonNode> all = new ArrayList<>();
            invoice.path("lines").path("data").forEach(all::add);
            JSON.readTree(file.resolveSibling("invoice-finalized-has-more.lines-page2.json").toFile()).path("data").forEach(all::add);
            api.putInvoiceLines(invoice.path("id").asText(), all);
            int before = api.requests().size();
            api.rateLimitNext(1, "1");

            HttpResponse<String> answer = kit.sendSigned(Files.readAllBytes(file));

            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
            assertThat(JSON.readTree(answer.body()).path("status").asText()).as(answer.body()).isEqualTo("accepted");
            List<StripeApiPeer.Request> asked = api.requests().subList(before, api.requests().size());
            assertThat(asked).hasSize(2); // the rate-limited request, then the same again
            assertThat(asked).allSatisfy(r -> {
                assertThat(r.pathAndQuery()).startsWith("/v1/invoices/" + invoice.path("id").asText() + "/lines?limit=100"
                        + "&starting_after=");
                assertThat(r.stripeVersion()).isEqualTo(event.path("api_version").asText());
            });
            JsonNode canonical = canonical(event.path("id").asText());
            assertThat(canonical.path("lines")).hasSize(all.size());
            assertThat(canonical.path("totalMinor").asLong()).isEqualTo(invoice.path("total").asLong());
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    kit.runtime.store().confirmations().find("ledger:" + event.path("id").asText()).isPresent());
        }
    }

    @Test
    void aServerErrorAtTheApiIsA503ForTheSenderToRetryAndARefusedKeyParksTheEvent() throws Exception {
        Path file = StripeFixtures.CORPUS.resolve("acacia").resolve("invoice-finalized-has-more.json");
        ObjectNode event = (ObjectNode) JSON.readTree(file.toFile());
        String invoiceId = event.path("data").path("object").path("id").asText();
        List<JsonNode> all = new ArrayList<>();
        event.path("data").path("object").path("lines").path("data").forEach(all::add);
        JSON.readTree(file.resolveSibling("invoice-finalized-has-more.lines-page2.json").toFile()).path("data").forEach(all::add);
        api.putInvoiceLines(invoiceId, all);

        api.failNext(1, 503);
        HttpResponse<String> unavailable = kit.sendSigned(JSON.writeValueAsBytes(event));
        assertThat(unavailable.statusCode()).as(unavailable.body()).isEqualTo(503);
        assertThat(unavailable.headers().firstValue("Retry-After")).isPresent();
        HttpResponse<String> retried = kit.sendSigned(JSON.writeValueAsBytes(event));
        assertThat(JSON.readTree(retried.body()).path("status").asText()).as(retried.body()).isEqualTo("accepted");

        // an invoice the API does not know (404): parked with Stripe's reason, not refused
        ObjectNode unknown = event.deepCopy();
        unknown.put("id", "evt_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24));
        ((ObjectNode) unknown.path("data").path("object")).put("id", "in_unknown" + UUID.randomUUID().toString().substring(0, 8));
        HttpResponse<String> parked = kit.sendSigned(JSON.writeValueAsBytes(unknown));
        assertThat(JSON.readTree(parked.body()).path("status").asText()).as(parked.body()).isEqualTo("parked");
        assertThat(JSON.readTree(parked.body()).path("reason").asText()).contains("answered 404").contains("No such invoice");
    }

    @Test
    void aLegalEntityOnlyInTheCustomersMetadataIsReadFromTheApi() throws Exception {
        Path file = StripeFixtures.CORPUS.resolve("basil").resolve("invoice-finalized-no-entity.json");
        ObjectNode event = (ObjectNode) JSON.readTree(file.toFile());
        String customerId = event.path("data").path("object").path("customer").asText();
        ObjectNode customer = JSON.createObjectNode().put("id", customerId).put("object", "customer");
        customer.putObject("metadata").put("legal_entity", "FR01").put("global_customer_id", "gc-fr-000042");
        api.putCustomer(customer);

        HttpResponse<String> answer = kit.sendSigned(JSON.writeValueAsBytes(event));

        assertThat(JSON.readTree(answer.body()).path("status").asText()).as(answer.body()).isEqualTo("accepted");
        ConsumerRecord<String, byte[]> record = record(event.path("id").asText());
        assertThat(RuntimeKit.header(record, "ce_legalentity")).isEqualTo("FR01");
        assertThat(RuntimeKit.header(record, "ce_legalentityrule")).isEqualTo("customer.metadata");
        assertThat(record.key()).isEqualTo("gc-fr-000042");
        assertThat(kit.runtime.store().deadLetters().list("billing.stripe-event", DeadLetter.OPEN, 100))
                .noneMatch(d -> d.idempotencyKey().endsWith(event.path("id").asText()));
    }

    private static JsonNode canonical(String eventId) throws Exception {
        return JSON.readTree(record(eventId).value());
    }

    private static ConsumerRecord<String, byte[]> record(String eventId) {
        return kit.readTopic("interchange.billing.v1", Duration.ofSeconds(2)).stream()
                .filter(r -> eventId.equals(RuntimeKit.header(r, "ce_id"))).findFirst().orElseThrow();
    }
}
