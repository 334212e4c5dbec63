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

/** Health with a check per connector, Prometheus metrics per route, and Jolokia only with credentials. */
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
    void healthHasACheckPerConnectorAndGoesDownWithTheErp() throws Exception {
        JsonNode health = new ObjectMapper().readTree(kit.get("/observe/health").body());
        assertThat(health.path("status").asText()).isEqualTo("UP");
        assertThat(health.path("checks").findValuesAsText("name")).contains("store", "s4hana", "legacyErp",
                "route:billing.webhook-ingest", "route:billing.ledger-posting", "consumer:billing.ledger-consumer");

        kit.s4.close();
        HttpResponse<String> down = kit.get("/observe/health");
        JsonNode s4 = null;
        for (JsonNode c : new ObjectMapper().readTree(down.body()).path("checks")) {
            if (c.path("name").asText().equals("s4hana")) s4 = c;
        }
        assertThat(s4).isNotNull();
        assertThat(s4.path("status").asText()).isEqualTo("DOWN");
    }

    @Test
    void metricsArePrometheusTextPerRoute() throws Exception {
        assertThat(kit.sendSigned(Events.bytes(Events.invoiceFinalized("FR01"))).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(20)).until(() -> kit.legacy.postings().size() == 1);
        String metrics = kit.get("/observe/metrics").body();
        assertThat(metrics).contains("camel_exchanges_total{")
                .contains("routeId=\"billing.webhook-ingest\"")
                .contains("routeId=\"billing.ledger-posting\"");
        assertThat(metrics).doesNotContain(RuntimeKit.ERP_PASSWORD).doesNotContain(RuntimeKit.SECRET);
    }

    @Test
    void jolokiaRequiresCredentials() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String url = "http://127.0.0.1:" + kit.managementPort + "/observe/jolokia/exec/io.interchange:type=DeadLetters/count()";
        assertThat(http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode()).isEqualTo(401);
        assertThat(http.send(request(url, "operator", "wrong"), HttpResponse.BodyHandlers.ofString()).statusCode())
                .isEqualTo(401);
        HttpResponse<String> ok = http.send(request(url, "operator", PASSWORD), HttpResponse.BodyHandlers.ofString());
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(new ObjectMapper().readTree(ok.body()).path("status").asInt()).isEqualTo(200);
    }

    private static HttpRequest request(String url, String user, String password) {
        String basic = Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        return HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Basic " + basic).build();
    }
}
