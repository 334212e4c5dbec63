package io.interchange.management;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.testkit.Databases;
import io.interchange.testkit.Events;
import io.interchange.testkit.RuntimeKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Health with a check per connector, readiness per flow, Prometheus metrics per route, and Jolokia only with credentials. */
class ManagementEndpointsTest {

    static RuntimeKit kit;
    static final String PASSWORD = "mgmt-test-password";

    @BeforeAll
    static void start() throws Exception {
        kit = RuntimeKit.start(Databases.Backend.H2, Map.of("interchange.management.password", PASSWORD));
    }

    @AfterAll
    static void stop() {
        if (kit != null) kit.close();
    }

    @Test
    void healthHasACheckPerConnectorAndTheErpsOnlyInTheLedgerFlow() throws Exception {
        JsonNode health = new ObjectMapper().readTree(kit.get("/observe/health").body());
        assertThat(health.path("status").asText()).isEqualTo("UP");
        assertThat(health.path("checks").findValuesAsText("name")).contains("store", "kafka",
                "route:billing.webhook-ingest", "route:billing.ledger-posting",
                "consumer:billing.ledger-consumer.s4hana", "consumer:billing.ledger-consumer.legacy");
        // ERPs and their circuit breakers decide the ledger flow's readiness only (FlowReadinessTest stops one): not
        // Camel's instance views
        assertThat(health.path("checks").findValuesAsText("name"))
                .doesNotContain("s4hana", "legacyErp", "breaker:s4hana", "breaker:legacy");
        JsonNode ready = new ObjectMapper().readTree(kit.get("/observe/health/ready").body());
        assertThat(ready.path("checks").findValuesAsText("name")).contains("store", "kafka")
                .doesNotContain("s4hana", "legacyErp", "breaker:s4hana", "breaker:legacy");

        HttpResponse<String> flows = kit.get("/observe/health/flows");
        assertThat(flows.statusCode()).as(flows.body()).isEqualTo(200);
        JsonNode ledger = null;
        for (JsonNode f : new ObjectMapper().readTree(flows.body()).path("flows")) {
            if (f.path("flow").asText().equals("billing-ledger")) ledger = f;
        }
        assertThat(ledger).as(flows.body()).isNotNull();
        assertThat(ledger.path("status").asText()).isEqualTo("UP");
        assertThat(ledger.path("checks").findValuesAsText("name")).contains("store", "kafka", "s4hana", "legacyErp",
                "breaker:s4hana", "breaker:legacy", "consumer:billing.ledger-consumer.s4hana",
                "consumer:billing.ledger-consumer.legacy");

        // liveness never depends on a peer: an ERP (or store, or Kafka) outage must not get the instance restarted
        HttpResponse<String> live = kit.get("/observe/health/live");
        assertThat(live.statusCode()).as(live.body()).isEqualTo(200);
        assertThat(new ObjectMapper().readTree(live.body()).path("checks").findValuesAsText("name"))
                .doesNotContain("s4hana", "legacyErp", "store", "kafka", "breaker:s4hana", "breaker:legacy");
    }

    @Test
    void metricsArePrometheusTextPerRoute() throws Exception {
        assertThat(kit.sendSigned(Events.bytes(Events.invoiceFinalized("FR01"))).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(20)).until(() -> kit.legacy.postings().size() == 1);
        String metrics = kit.get("/observe/metrics").body();
        assertThat(metrics).contains("camel_exchanges_total{")
                .contains("routeId=\"billing.webhook-ingest\"")
                .contains("routeId=\"billing.ledger-posting\"")
                // a circuit breaker per ERP target: its state, failure rate, refused calls and held consumers
                .contains("interchange_erp_breaker_state{state=\"closed\",target=\"S4HANA\"} 1.0")
                .contains("interchange_erp_breaker_state{state=\"open\",target=\"LEGACY\"} 0.0")
                .contains("interchange_erp_breaker_failure_rate{target=\"LEGACY\"}")
                .contains("interchange_erp_breaker_not_permitted_total{target=\"S4HANA\"}")
                .contains("interchange_ledger_held_consumers{target=\"S4HANA\"}");
        assertThat(metrics).doesNotContain(RuntimeKit.ERP_PASSWORD).doesNotContain(RuntimeKit.SECRET);
    }

    @Test
    void everyManagementEndpointRequiresCredentials() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + kit.managementPort;
        for (String path : new String[]{"/observe/health", "/observe/health/flows",
                "/observe/health/flows/billing-ledger", "/observe/metrics",
                "/observe/jolokia/exec/io.interchange:type=DeadLetters/count()"}) {
            assertThat(http.send(HttpRequest.newBuilder(URI.create(base + path)).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).as(path + " without credentials").isEqualTo(401);
            assertThat(http.send(request(base + path, "operator", "wrong"), HttpResponse.BodyHandlers.ofString())
                    .statusCode()).as(path + " with a wrong password").isEqualTo(401);
            // health answers 503 while a check is down; never 401 here
            assertThat(http.send(request(base + path, "operator", PASSWORD), HttpResponse.BodyHandlers.ofString())
                    .statusCode()).as(path + " with credentials").isIn(200, 503);
        }
        HttpResponse<String> ok = http.send(request(base + "/observe/jolokia/exec/io.interchange:type=DeadLetters/count()",
                "operator", PASSWORD), HttpResponse.BodyHandlers.ofString());
        assertThat(new ObjectMapper().readTree(ok.body()).path("status").asInt()).isEqualTo(200);
        HttpResponse<String> write = http.send(request(base
                + "/observe/jolokia/write/org.apache.camel:context=interchange,type=context,name=%22interchange%22/Tracing/true",
                "operator", PASSWORD), HttpResponse.BodyHandlers.ofString());
        assertThat(new ObjectMapper().readTree(write.body()).path("status").asInt()).as(write.body()).isEqualTo(403);
    }

    private static HttpRequest request(String url, String user, String password) {
        String basic = Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        return HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Basic " + basic).build();
    }
}
