package io.interchange.flow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.loyalty.LoyaltyEarning;
import io.interchange.management.DeadLetterOperations;
import io.interchange.routes.LoyaltyEarningRoute;
import io.interchange.sandbox.loyalty.LoyaltyPeer;
import io.interchange.store.DeadLetter;
import io.interchange.testkit.Databases;
import io.interchange.testkit.RuntimeKit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Flow {@code loyalty-earning} end to end on real Kafka and H2 against the loyalty platform's peer: canonical paid
 * events on the billing topic add the points of their entity's rule to the customer's member, once, whatever is
 * delivered twice, lost on the way back or left half-done by a process that died; an entity without a rule earns
 * nothing and is counted; a customer without a member waits, then is parked with the reason and earns on replay.
 */
class LoyaltyEarningFlowTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String APP_ID = "app-earning";
    static final String APP_TOKEN = "token-" + UUID.randomUUID();
    static final String CAMPAIGN = "camp_earning";
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static LoyaltyPeer loyalty;
    static RuntimeKit kit;
    static KafkaProducer<String, byte[]> producer;

    @BeforeAll
    static void start() throws Exception {
        loyalty = new LoyaltyPeer(0, APP_ID, APP_TOKEN).program(CAMPAIGN, "Earning Program")
                .tier(CAMPAIGN, "ltr_basic", "Basic", 0, 499).tier(CAMPAIGN, "ltr_silver", "Silver", 500, 1999)
                .tier(CAMPAIGN, "ltr_gold", "Gold", 2000, 10_000_000).start();
        Map<String, String> settings = new HashMap<>();
        settings.put("interchange.flows", "loyalty-earning");
        settings.put("interchange.loyalty.api-url", loyalty.url());
        settings.put("interchange.loyalty.app-id", APP_ID);
        settings.put("interchange.loyalty.app-token", APP_TOKEN);
        settings.put("interchange.loyalty.campaign-id", CAMPAIGN);
        settings.put("interchange.loyalty.api-timeout", "PT1S");
        settings.put("interchange.loyalty.api-max-rate", "50");
        settings.put("interchange.loyalty.earning-start", "earliest");
        settings.put("interchange.route.loyalty.earning.max-attempts", "4");
        settings.put("interchange.route.loyalty.earning.initial-delay", "PT0.1S");
        settings.put("interchange.route.loyalty.earning.max-delay", "PT0.3S");
        kit = RuntimeKit.start(Databases.Backend.H2, settings);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kit.kafka.bootstrapServers());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        producer = new KafkaProducer<>(p);
    }

    @AfterAll
    static void stop() {
        if (producer != null) producer.close();
        if (kit != null) kit.close();
        if (loyalty != null) loyalty.close();
    }

    /** A new customer with a member on the platform, linked as the customer sync links it; its card code. */
    static String memberOf(String globalId) throws Exception {
        String code = newCard(globalId);
        kit.runtime.store().crossReferences().link(globalId, "loyalty", "", code);
        return code;
    }

    static String newCard(String globalId) throws Exception {
        ObjectNode body = JSON.createObjectNode();
        body.putObject("customer").put("source_id", globalId);
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(loyalty.url() + "/v1/loyalties/" + CAMPAIGN
                        + "/members")).header("X-App-Id", APP_ID).header("X-App-Token", APP_TOKEN)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body()).path("code").asText();
    }

    /** A canonical payment.succeeded as the billing edge publishes it (binary CloudEvents on the billing topic). */
    static void publishPaid(String eventId, String globalId, String legalEntity, String currency, long amountMinor) {
        ObjectNode payment = JSON.createObjectNode().put("paymentId", "pi_" + eventId).put("invoiceId", "in_" + eventId)
                .put("invoiceNumber", "INV-" + eventId);
        payment.putObject("customer").put("globalId", globalId).put("system", "billing").put("systemId", "cus_1");
        payment.put("currency", currency).put("amountMinor", amountMinor).put("status", "SUCCEEDED")
                .put("occurredOn", "2026-03-01").put("attemptCount", 1).putNull("failureMessage");
        ProducerRecord<String, byte[]> record = new ProducerRecord<>("interchange.billing.v1", globalId,
                payment.toString().getBytes(StandardCharsets.UTF_8));
        Map<String, String> headers = Map.of("ce_specversion", "1.0", "ce_id", eventId, "ce_source", "/billing/stripe",
                "ce_type", "io.interchange.billing.payment.succeeded", "ce_subject", globalId,
                "ce_time", Instant.now().toString(), "ce_dataschema", "urn:interchange:canonical:payment:1",
                "ce_legalentity", legalEntity, "content-type", "application/json");
        headers.forEach((k, v) -> record.headers().add(k, v.getBytes(StandardCharsets.UTF_8)));
        try {
            producer.send(record).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static List<JsonNode> earned(String code, String eventId) {
        return loyalty.transactions(code).stream()
                .filter(t -> LoyaltyEarning.sourceId(eventId).equals(t.path("source_id").asText(null)))
                .map(JsonNode.class::cast).toList();
    }

    static boolean done(String eventId) {
        return kit.runtime.store().idempotency().state(LoyaltyEarning.key(eventId)) != null
                && "DONE".equals(kit.runtime.store().idempotency().state(LoyaltyEarning.key(eventId)));
    }

    static String event() {
        return "evt-" + UUID.randomUUID();
    }

    @Test
    void aPaidInvoiceAddsItsEntitysPointsOnceEvenDeliveredTwice() throws Exception {
        String customer = kit.runtime.store().crossReferences().mint();
        String code = memberOf(customer);
        String paid = event();
        publishPaid(paid, customer, "DE01", "EUR", 123_456); // 1,234.56 EUR at 1 a whole euro: 1,234 points
        publishPaid(paid, customer, "DE01", "EUR", 123_456); // the same event again (a redelivered publish)
        await().atMost(Duration.ofSeconds(30)).until(() -> done(paid));
        String later = event(); // read after both copies: when it is done, the duplicate has been seen too
        publishPaid(later, customer, "GB01", "GBP", 999); // 9.99 GBP at 2 a pound: 18
        await().atMost(Duration.ofSeconds(30)).until(() -> done(later));

        assertThat(earned(code, paid)).singleElement().satisfies(t -> {
            assertThat(t.path("type").asText()).isEqualTo("POINTS_ADDITION");
            assertThat(t.path("details").path("balance").path("points").asLong()).isEqualTo(1_234);
            assertThat(t.path("reason").asText()).isEqualTo("invoice INV-" + paid + " paid");
        });
        assertThat(earned(code, later)).singleElement()
                .satisfies(t -> assertThat(t.path("details").path("balance").path("points").asLong()).isEqualTo(18));
        assertThat(loyalty.member(code).path("loyalty_card").path("balance").asLong()).isEqualTo(1_252);
        assertThat(kit.get("/observe/metrics").body()).containsPattern(
                "interchange_loyalty_earning_total\\{[^}]*legal_entity=\"DE01\"[^}]*outcome=\"earned\"");
    }

    @Test
    void theLoyaltyPlatformsLostAnswerIsFoundNotAddedAgain() throws Exception {
        String customer = kit.runtime.store().crossReferences().mint();
        String code = memberOf(customer);
        loyalty.loseAnswerNext(1, "POST", "/v1/loyalties/members/" + code + "/balance");
        String paid = event();
        publishPaid(paid, customer, "US01", "USD", 5_000);
        await().atMost(Duration.ofSeconds(30)).until(() -> done(paid));
        assertThat(earned(code, paid)).hasSize(1);
        assertThat(loyalty.member(code).path("loyalty_card").path("balance").asLong()).isEqualTo(50);
        assertThat(loyalty.requestLog()).filteredOn(r -> r.path().endsWith(code + "/transactions"))
                .as("looked up after the lost answer").isNotEmpty();
    }

    @Test
    void anAddLeftHalfDoneByAProcessThatDiedIsFoundByTheOneThatTakesItOver() throws Exception {
        String customer = kit.runtime.store().crossReferences().mint();
        String code = memberOf(customer);
        String paid = event();
        // a process claimed the event, added the points, and died before it confirmed: its claim's lease ran out
        var idempotency = kit.runtime.store().idempotency();
        assertThat(idempotency.claim(LoyaltyEarning.key(paid))).isNull();
        HttpResponse<String> add = HTTP.send(HttpRequest.newBuilder(URI.create(loyalty.url() + "/v1/loyalties/members/"
                        + code + "/balance")).header("X-App-Id", APP_ID).header("X-App-Token", APP_TOKEN)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                        "{\"points\":20,\"source_id\":\"" + LoyaltyEarning.sourceId(paid) + "\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(add.statusCode()).isEqualTo(200);
        idempotency.releaseUnsettled(LoyaltyEarning.key(paid));

        publishPaid(paid, customer, "DE01", "EUR", 2_000);
        await().atMost(Duration.ofSeconds(30)).until(() -> done(paid));
        assertThat(earned(code, paid)).hasSize(1);
        assertThat(loyalty.member(code).path("loyalty_card").path("balance").asLong()).isEqualTo(20);
    }

    @Test
    void anEntityWithoutARuleEarnsNothingAndIsCounted() throws Exception {
        String customer = kit.runtime.store().crossReferences().mint();
        String code = memberOf(customer);
        String paid = event();
        publishPaid(paid, customer, "FR01", "EUR", 10_000); // FR01 has no row in earning-rules.csv
        await().atMost(Duration.ofSeconds(30)).until(() -> done(paid));
        assertThat(loyalty.transactions(code)).isEmpty();
        assertThat(kit.get("/observe/metrics").body()).containsPattern(
                "interchange_loyalty_earning_total\\{[^}]*legal_entity=\"FR01\"[^}]*outcome=\"no_rule\"[^}]*} 1.0");
    }

    @Test
    void aCustomerWithoutAMemberWaitsThenIsParkedWithTheReasonAndEarnsOnReplay() throws Exception {
        String customer = kit.runtime.store().crossReferences().mint();
        String paid = event();
        publishPaid(paid, customer, "DE01", "EUR", 4_200);
        await().atMost(Duration.ofSeconds(30)).until(() -> !parked(paid).isEmpty());
        DeadLetter letter = parked(paid).get(0);
        assertThat(letter.errorMessage()).contains("has no loyalty member yet").contains(customer);
        assertThat(letter.attempts()).isEqualTo(4);

        String code = memberOf(customer); // the customer sync links the member later
        var operations = new DeadLetterOperations(kit.runtime.camelContext(), kit.runtime.store().deadLetters(),
                kit.runtime.store().audit());
        assertThat(operations.replay(letter.id())).startsWith("replayed");
        assertThat(earned(code, paid)).singleElement()
                .satisfies(t -> assertThat(t.path("details").path("balance").path("points").asLong()).isEqualTo(42));
        assertThat(operations.replay(letter.id())).doesNotStartWith("replayed");
        assertThat(earned(code, paid)).hasSize(1);
    }

    static List<DeadLetter> parked(String eventId) {
        return kit.runtime.store().deadLetters().list(LoyaltyEarningRoute.ROUTE_ID, DeadLetter.OPEN, 100).stream()
                .filter(d -> LoyaltyEarning.key(eventId).equals(d.idempotencyKey())).toList();
    }
}
