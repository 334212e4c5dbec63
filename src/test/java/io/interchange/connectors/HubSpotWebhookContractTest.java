package io.interchange.connectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.connectors.crm.HubSpotWebhook;
import io.interchange.management.DeadLetterOperations;
import io.interchange.model.CustomerChange;
import io.interchange.reliability.PermanentFailure;
import io.interchange.store.DeadLetter;
import io.interchange.testkit.Databases;
import io.interchange.testkit.HubSpotSigner;
import io.interchange.testkit.RuntimeKit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * HubSpot's webhooks (POST /webhooks/hubspot, X-HubSpot-Signature-v3) under the inbound connector contract, and what
 * is HubSpot's own: a body is a batch of events, each claimed on its own, published once as a canonical customer
 * change on the customer topic, a batch with some events already done is answered 200, an event of a signed batch that
 * cannot be read is parked (the others published) and replayed through {@code crm.hubspot-event}.
 */
class HubSpotWebhookContractTest extends InboundWebhookContract {

    static final String SECRET = "hubspot-client-secret-" + UUID.randomUUID();
    static final String TOPIC = "interchange.customer.v1";
    static final Path FIXTURES = Path.of("mappings/hubspot/customer-change.fixtures");
    /** Event ids never sent before in this JVM. */
    static final AtomicLong EVENT_IDS = new AtomicLong(System.currentTimeMillis() * 1000);
    static RuntimeKit kit;

    @BeforeAll
    static void start() throws Exception {
        kit = RuntimeKit.start(Databases.Backend.H2, Map.of("interchange.flows", "crm-hubspot",
                "interchange.hubspot.client-secret", SECRET));
    }

    @AfterAll
    static void stop() {
        if (kit != null) kit.close();
    }

    @Override
    protected RuntimeKit kit() {
        return kit;
    }

    @Override
    protected String path() {
        return "/webhooks/hubspot";
    }

    @Override
    protected String flow() {
        return "crm-hubspot";
    }

    @Override
    protected String routeId() {
        return "crm.hubspot-webhook";
    }

    @Override
    protected List<String> settings() {
        return List.of("interchange.hubspot.client-secret", "interchange.hubspot.public-url",
                "interchange.hubspot.signature-tolerance", "interchange.customer.topic");
    }

    @Override
    protected List<String> mappings() {
        return List.of("hubspot/customer-change");
    }

    @Override
    protected int signatureRefusal() {
        return 401;
    }

    @Override
    protected byte[] genuineBody() throws Exception {
        return JSON.writeValueAsBytes(batch(fixtureEvents().subList(0, 2)));
    }

    @Override
    protected List<String> keys(byte[] body) throws Exception {
        List<String> keys = new ArrayList<>();
        for (JsonNode e : JSON.readTree(body)) {
            keys.add("crm:hubspot:" + e.path("portalId").asText() + ":" + e.path("subscriptionId").asText() + ":"
                    + e.path("eventId").asText() + ":" + e.path("objectId").asText());
        }
        return keys;
    }

    @Override
    protected Map<String, String> signed(byte[] body, Instant at, String secret) throws Exception {
        // the Java client sends Host 127.0.0.1:<port>, plain HTTP: the URL HubSpot would have been configured with
        return HubSpotSigner.headers(secret, "http://127.0.0.1:" + kit.httpPort + path(), body, at.toEpochMilli());
    }

    @Override
    protected String secret() {
        return SECRET;
    }

    /** The events of the mapping's fixtures (HubSpot's documented payloads), each with the expected canonical change. */
    static List<ObjectNode[]> fixtureEvents() throws Exception {
        List<ObjectNode[]> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(FIXTURES)) {
            for (Path input : s.filter(p -> p.toString().endsWith(".input.json")).sorted().toList()) {
                ObjectNode event = (ObjectNode) JSON.readTree(input.toFile()).path("event");
                ObjectNode expected = (ObjectNode) JSON.readTree(input.resolveSibling(
                        input.getFileName().toString().replace(".input.json", ".expected.json")).toFile());
                out.add(new ObjectNode[]{event, expected});
            }
        }
        return out;
    }

    /** A batch of these events, each with an event id never sent before. */
    static ArrayNode batch(List<ObjectNode[]> events) {
        ArrayNode batch = JSON.createArrayNode();
        for (ObjectNode[] e : events) batch.add(e[0].deepCopy().put("eventId", EVENT_IDS.incrementAndGet()));
        return batch;
    }

    private HttpResponse<String> send(JsonNode batch) throws Exception {
        byte[] body = JSON.writeValueAsBytes(batch);
        return post(body, signed(body, Instant.now(), SECRET));
    }

    private static List<String> statuses(HttpResponse<String> answer) throws Exception {
        return JSON.readTree(answer.body()).path("events").findValuesAsText("status");
    }

    private List<ConsumerRecord<String, byte[]>> records(Set<String> ids) {
        return kit.readTopic(TOPIC, Duration.ofSeconds(2)).stream()
                .filter(r -> ids.contains(RuntimeKit.header(r, "ce_id"))).toList();
    }

    private static Set<String> ceIds(JsonNode batch) {
        Set<String> ids = new HashSet<>();
        for (JsonNode e : batch) {
            ids.add("hubspot:" + e.path("portalId").asText() + ":" + e.path("subscriptionId").asText() + ":"
                    + e.path("eventId").asText() + ":" + e.path("objectId").asText());
        }
        return ids;
    }

    @Test
    void everyDocumentedEventOfABatchIsPublishedOnceAsACanonicalCustomerChange() throws Exception {
        List<ObjectNode[]> fixtures = fixtureEvents();
        ArrayNode batch = batch(fixtures);
        HttpResponse<String> answer = send(batch);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(statuses(answer)).hasSize(fixtures.size()).containsOnly("accepted");

        List<ConsumerRecord<String, byte[]>> records = records(ceIds(batch));
        assertThat(records).hasSize(fixtures.size());
        for (int i = 0; i < fixtures.size(); i++) {
            JsonNode event = batch.get(i);
            String ceId = ceIds(JSON.createArrayNode().add(event)).iterator().next();
            ConsumerRecord<String, byte[]> r = records.stream()
                    .filter(x -> ceId.equals(RuntimeKit.header(x, "ce_id"))).findFirst().orElseThrow();
            JsonNode expected = fixtures.get(i)[1];
            // the record carries every field of the model (null where HubSpot sent none), the fixture only those set
            assertThat(JSON.readValue(r.value(), CustomerChange.class)).as("record of %s", ceId)
                    .isEqualTo(JSON.treeToValue(expected, CustomerChange.class));
            String subject = expected.path("customer").path("globalId").asText();
            assertThat(r.key()).isEqualTo(subject);
            assertThat(RuntimeKit.header(r, "ce_subject")).isEqualTo(subject);
            assertThat(RuntimeKit.header(r, "ce_specversion")).isEqualTo("1.0");
            assertThat(RuntimeKit.header(r, "ce_source")).isEqualTo("/crm/hubspot");
            assertThat(RuntimeKit.header(r, "ce_type")).isEqualTo("io.interchange.customer."
                    + expected.path("change").asText());
            assertThat(RuntimeKit.header(r, "ce_dataschema")).isEqualTo("urn:interchange:canonical:customer-change:1");
            assertThat(RuntimeKit.header(r, "ce_time")).isEqualTo(expected.path("occurredAt").asText());
            assertThat(RuntimeKit.header(r, "ce_correlationid")).isEqualTo(JSON.readTree(answer.body())
                    .path("correlationId").asText());
            assertThat(RuntimeKit.header(r, "ce_legalentity")).as("no legal entity for a CRM record").isNull();
        }
    }

    @Test
    void aRedeliveredBatchIsAnsweredDuplicateAndNothingIsPublishedTwice() throws Exception {
        ArrayNode batch = batch(fixtureEvents().subList(0, 3));
        assertThat(send(batch).statusCode()).isEqualTo(200);
        // HubSpot retries a batch whole; attemptNumber is the only field that changes
        ArrayNode retry = batch.deepCopy();
        retry.forEach(e -> ((ObjectNode) e).put("attemptNumber", 1));
        HttpResponse<String> again = send(retry);
        assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
        assertThat(statuses(again)).hasSize(3).containsOnly("duplicate");
        assertThat(records(ceIds(batch))).hasSize(3);
    }

    @Test
    void aBatchWithSomeEventsDoneIsAnswered200AndOnlyItsNewEventsArePublished() throws Exception {
        List<ObjectNode[]> fixtures = fixtureEvents();
        ArrayNode first = batch(fixtures.subList(0, 1));
        assertThat(send(first).statusCode()).isEqualTo(200);
        ArrayNode mixed = first.deepCopy();
        mixed.addAll(batch(fixtures.subList(1, 2)));
        // the same event twice in one batch is one event
        mixed.add(mixed.get(1).deepCopy());
        HttpResponse<String> answer = send(mixed);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(statuses(answer)).containsExactly("duplicate", "accepted", "duplicate");
        assertThat(records(ceIds(mixed))).hasSize(2);
    }

    @Test
    void typesWithoutEffectAreAcknowledgedCountedAndNotPublished() throws Exception {
        ObjectNode deal = fixtureEvents().get(0)[0].deepCopy();
        deal.put("subscriptionType", "deal.creation").put("eventId", EVENT_IDS.incrementAndGet());
        ObjectNode association = fixtureEvents().get(0)[0].deepCopy();
        association.put("subscriptionType", "contact.associationChange").put("eventId", EVENT_IDS.incrementAndGet());
        ArrayNode batch = JSON.createArrayNode().add(deal).add(association);
        HttpResponse<String> answer = send(batch);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(statuses(answer)).containsExactly("ignored", "ignored");
        assertThat(JSON.readTree(answer.body()).path("events").get(0).path("reason").asText())
                .contains("mappings/hubspot/events.csv");
        assertThat(records(ceIds(batch))).isEmpty();
        String metrics = kit.get("/observe/metrics").body();
        assertThat(metrics).containsPattern("interchange_hubspot_events_acknowledged_total\\{[^}]*outcome=\"ignored\""
                + "[^}]*type=\"deal.creation\"");
    }

    @Test
    void anEventOfASignedBatchThatCannotBeReadIsParkedWhileTheOthersArePublished() throws Exception {
        ArrayNode batch = batch(fixtureEvents().subList(0, 2));
        ((ObjectNode) batch.get(1)).put("objectId", "not-a-number");
        HttpResponse<String> answer = send(batch);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(statuses(answer)).containsExactly("accepted", "parked");
        JsonNode parked = JSON.readTree(answer.body()).path("events").get(1);
        assertThat(parked.path("reason").asText()).contains("event [1]").contains("objectId");
        assertThat(records(ceIds(JSON.createArrayNode().add(batch.get(0))))).as("the readable event published").hasSize(1);

        var deadLetters = kit.runtime.store().deadLetters()
                .list(HubSpotWebhook.EVENT_ROUTE_ID, DeadLetter.OPEN, 100).stream()
                .filter(d -> d.id() == parked.path("deadLetter").asLong()).toList();
        assertThat(deadLetters).as("kept as an open dead letter of the single-event route").hasSize(1);
        DeadLetter kept = deadLetters.get(0);
        assertThat(JSON.readTree(kept.payload())).as("the event alone, as it came").isEqualTo(batch.get(1));
        assertThat(kept.errorMessage()).contains("objectId");

        // HubSpot retries the batch: the readable event is a duplicate, the other is not parked a second time
        HttpResponse<String> again = send(batch);
        assertThat(statuses(again)).containsExactly("duplicate", "parked");
        assertThat(JSON.readTree(again.body()).path("events").get(1).path("deadLetter").asLong()).isEqualTo(kept.id());

        // a replay of what still cannot be read fails again and says why; nothing is published
        var operations = new DeadLetterOperations(kit.runtime.camelContext(), kit.runtime.store().deadLetters(),
                kit.runtime.store().audit());
        assertThat(operations.replay(kept.id())).contains("failed again").contains("objectId");
    }

    @Test
    void aParkedEventReplayedOnceItCanBeReadIsPublishedOnce() throws Exception {
        ObjectNode event = batch(fixtureEvents().subList(0, 1)).get(0).deepCopy();
        long deadLetter = kit.runtime.store().deadLetters().add(HubSpotWebhook.EVENT_ROUTE_ID, "corr-replay",
                "crm:" + ceIds(JSON.createArrayNode().add(event)).iterator().next(), "permanent",
                PermanentFailure.class.getName(), "a mapping gap, since fixed", 1, Map.of(), JSON.writeValueAsBytes(event));
        var operations = new DeadLetterOperations(kit.runtime.camelContext(), kit.runtime.store().deadLetters(),
                kit.runtime.store().audit());
        assertThat(operations.replay(deadLetter)).startsWith("replayed");
        assertThat(operations.replay(deadLetter)).as("a replayed dead letter is not open any more")
                .doesNotStartWith("replayed");
        List<ConsumerRecord<String, byte[]>> records = records(ceIds(JSON.createArrayNode().add(event)));
        assertThat(records).hasSize(1);
        assertThat(RuntimeKit.header(records.get(0), "ce_source")).isEqualTo("/crm/hubspot");
        // the edge then takes HubSpot's own delivery of it for a duplicate
        assertThat(statuses(send(JSON.createArrayNode().add(event)))).containsExactly("duplicate");
    }

    @Test
    void aBodyThatIsNotABatchOfEventsIsRefused() throws Exception {
        ObjectNode single = batch(fixtureEvents().subList(0, 1)).get(0).deepCopy();
        HttpResponse<String> object = send(single);
        assertThat(object.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(object.body()).path("reason").asText()).contains("JSON array");
        HttpResponse<String> empty = send(JSON.createArrayNode());
        assertThat(empty.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(empty.body()).path("reason").asText()).contains("empty array");
    }
}
