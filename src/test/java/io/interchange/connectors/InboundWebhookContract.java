package io.interchange.connectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.config.Settings;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingSource;
import io.interchange.testkit.RuntimeKit;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.awaitility.Awaitility.await;

/**
 * The contract every inbound webhook connector inherits (one subclass per system, on a running runtime of
 * {@link RuntimeKit}): its settings are documented in the README's reference, its flow has a readiness check, a
 * genuine delivery is accepted and its keys marked done, a bad, missing or stale signature is refused with the status
 * the system's senders get and a JSON reason, a malformed body is 400 and a wrong content type 415 (each without
 * effect), another method on its path is 405 with {@code Allow: POST} (the HTTP server knows the path), its mappings have fixtures that map to their expected output, and while Kafka is down a delivery is answered
 * 503 with {@code Retry-After}, its keys released, so the sender's retry after recovery is accepted.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
public abstract class InboundWebhookContract {

    protected static final ObjectMapper JSON = new ObjectMapper();

    /** The running runtime with the connector's flow. */
    protected abstract RuntimeKit kit();

    /** The webhook path, e.g. {@code /webhooks/hubspot}. */
    protected abstract String path();

    /** The flow (in {@code interchange.flows}) that runs the connector. */
    protected abstract String flow();

    /** The route id of the connector's edge. */
    protected abstract String routeId();

    /** Every configuration key the connector reads. */
    protected abstract List<String> settings();

    /** The mappings the connector translates with (ids in {@code mappings/catalog.json}). */
    protected abstract List<String> mappings();

    /** The status the system's senders get for a signature that is bad, missing or stale (Stripe 400, HubSpot 401). */
    protected abstract int signatureRefusal();

    /** A genuine delivery's body, with events never sent before. */
    protected abstract byte[] genuineBody() throws Exception;

    /** The idempotency keys a delivery of this body claims. */
    protected abstract List<String> keys(byte[] body) throws Exception;

    /** The headers (content type included) of the body signed as the system signs it, at the given time and secret. */
    protected abstract Map<String, String> signed(byte[] body, Instant at, String secret) throws Exception;

    /** The secret the runtime is configured with. */
    protected abstract String secret();

    /**
     * Whether the system's signature carries a time, so a stale one can be refused (a signed webhook does; HTTP Basic
     * authentication does not, and its replays are the idempotency keys' to absorb).
     */
    protected boolean signaturesCarryTime() {
        return true;
    }

    /** A body that is not what the system sends, with the words its refusal must contain. */
    protected byte[] malformedBody() {
        return "[{\"eventId\": 1, \"id\": \"evt_".getBytes(StandardCharsets.UTF_8);
    }

    protected String malformedReason() {
        return "malformed JSON";
    }

    /** The headers of the body without any signature. */
    protected Map<String, String> unsigned() {
        return Map.of("Content-Type", "application/json");
    }

    protected HttpResponse<String> post(byte[] body, Map<String, String> headers) throws Exception {
        return kit().post(path(), body, headers);
    }

    protected String state(String key) {
        return kit().runtime.store().idempotency().state(key);
    }

    private void assertRefusedWithoutEffect(HttpResponse<String> answer, int status, byte[] body) throws Exception {
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(status);
        JsonNode json = JSON.readTree(answer.body());
        assertThat(json.path("status").asText()).isEqualTo("rejected");
        assertThat(json.path("reason").asText()).isNotBlank();
        assertThat(answer.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).contains("json"));
        for (String key : keys(body)) assertThat(state(key)).as("key %s after a refusal", key).isNull();
    }

    @Test
    @Order(1)
    void itsSettingsAreDeclaredAndDocumentedInTheReadmeReference() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        for (String key : settings()) {
            assertThat(Settings.find(key)).as("%s declared in Settings", key).isNotNull();
            assertThat(readme).as("%s in the README's configuration reference", key).contains("| `" + key + "` |");
        }
        assertThat(Settings.FLOWS.description()).as("the flow named in interchange.flows").contains(flow());
    }

    @Test
    @Order(2)
    void itsFlowHasAReadinessCheckNamingItsRoute() throws Exception {
        HttpResponse<String> ready = kit().get("/observe/health/flows/" + flow());
        assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
        assertThat(JSON.readTree(ready.body()).path("checks").findValuesAsText("name")).contains("route:" + routeId());
    }

    @Test
    @Order(3)
    void aGenuineDeliveryIsAcceptedAndItsKeysAreDoneBeforeTheAnswer() throws Exception {
        byte[] body = genuineBody();
        HttpResponse<String> answer = post(body, signed(body, Instant.now(), secret()));
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(JSON.readTree(answer.body()).path("status").asText()).isEqualTo("accepted");
        for (String key : keys(body)) assertThat(state(key)).as("key %s", key).isEqualTo("DONE");
    }

    @Test
    @Order(4)
    void aBadSignatureIsRefusedWithAJsonReasonAndNoEffect() throws Exception {
        byte[] body = genuineBody();
        assertRefusedWithoutEffect(post(body, signed(body, Instant.now(), "not-" + secret())), signatureRefusal(), body);
    }

    @Test
    @Order(5)
    void aMissingSignatureIsRefusedWithAJsonReasonAndNoEffect() throws Exception {
        byte[] body = genuineBody();
        assertRefusedWithoutEffect(post(body, unsigned()), signatureRefusal(), body);
    }

    @Test
    @Order(6)
    void aStaleSignatureIsRefusedWithAJsonReasonAndNoEffect() throws Exception {
        assumeTrue(signaturesCarryTime(), "the system's authentication carries no time");
        byte[] body = genuineBody();
        HttpResponse<String> answer = post(body, signed(body, Instant.now().minus(Duration.ofMinutes(10)), secret()));
        assertRefusedWithoutEffect(answer, signatureRefusal(), body);
        assertThat(JSON.readTree(answer.body()).path("reason").asText()).contains("old");
    }

    @Test
    @Order(7)
    void aMalformedBodyIs400AndAWrongContentType415() throws Exception {
        byte[] garbage = malformedBody();
        HttpResponse<String> malformed = post(garbage, signed(garbage, Instant.now(), secret()));
        assertThat(malformed.statusCode()).as(malformed.body()).isEqualTo(400);
        assertThat(JSON.readTree(malformed.body()).path("reason").asText()).contains(malformedReason());

        byte[] body = genuineBody();
        Map<String, String> text = new HashMap<>(signed(body, Instant.now(), secret()));
        text.put("Content-Type", "text/plain");
        assertRefusedWithoutEffect(post(body, text), 415, body);
    }

    @Test
    @Order(8)
    void itsMappingsHaveFixturesThatMapToTheirExpectedOutput() throws Exception {
        assumeFalse(mappings().isEmpty(), "the connector reads its few protocol fields without a mapping");
        Path root = Path.of("mappings");
        MappingEngine engine = MappingEngine.load(MappingSource.directory(root));
        for (String id : mappings()) {
            Path dir = root.resolve(id + ".fixtures");
            List<Path> inputs;
            try (Stream<Path> s = Files.list(dir)) {
                inputs = s.filter(p -> p.getFileName().toString().endsWith(".input.json")).sorted().toList();
            }
            assertThat(inputs).as("fixtures of %s", id).isNotEmpty();
            for (Path input : inputs) {
                Path expected = input.resolveSibling(input.getFileName().toString().replace(".input.json", ".expected.json"));
                assertThat(expected).as("expected output of %s", input).exists();
                JsonNode out = engine.get(id).apply(JSON.readTree(input.toFile()), input.getFileName().toString());
                assertThat(JSON.readTree(JSON.writeValueAsString(out))).as("%s", input)
                        .isEqualTo(JSON.readTree(expected.toFile()));
            }
        }
    }

    @Test
    @Order(9)
    void anotherMethodOnItsPathIs405WithAllowPost() throws Exception {
        HttpResponse<String> get = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + kit().httpPort + path())).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(get.statusCode()).as(get.body()).isEqualTo(405);
        assertThat(get.headers().firstValue("Allow")).hasValue("POST");
        assertThat(JSON.readTree(get.body()).path("reason").asText()).contains("POST");
    }

    /** Runs last: it stops the broker (and starts it again). */
    @Test
    @Order(Integer.MAX_VALUE)
    void whileKafkaIsDownADeliveryIs503WithRetryAfterAndItsRetryIsAccepted() throws Exception {
        kit().kafka.close();
        {
            byte[] body = genuineBody();
            long started = System.nanoTime();
            HttpResponse<String> during = post(body, signed(body, Instant.now(), secret()));
            assertThat(during.statusCode()).as(during.body()).isEqualTo(503);
            assertThat(during.headers().firstValue("Retry-After")).isPresent();
            assertThat(JSON.readTree(during.body()).path("reason").asText()).contains("retry later");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(25));
            for (String key : keys(body)) assertThat(state(key)).as("key %s released before the answer", key).isNull();

            kit().restartKafka();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(2)).until(() ->
                    post(body, signed(body, Instant.now(), secret())).statusCode() == 200);
            for (String key : keys(body)) assertThat(state(key)).as("key %s", key).isEqualTo("DONE");
        }
    }
}
