package io.interchange.management;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.config.Settings;
import io.interchange.testkit.Databases;
import io.interchange.testkit.Events;
import io.interchange.testkit.RuntimeKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Readiness per flow against real outages (a stopped ERP peer, a PostgreSQL database that refuses connections, a
 * stopped broker): an ERP makes only the ledger flow not ready; the store and Kafka make the webhook flow and the
 * instance not ready; liveness never follows a peer.
 */
class FlowReadinessTest {

    static final String WEBHOOK = "/observe/health/flows/billing-webhook";
    static final String LEDGER = "/observe/health/flows/billing-ledger";
    static final ObjectMapper JSON = new ObjectMapper();

    static RuntimeKit kit;

    @BeforeAll
    static void start() throws Exception {
        kit = RuntimeKit.start(Databases.Backend.POSTGRES, Map.of());
    }

    @AfterAll
    static void stop() {
        if (kit != null) kit.close();
    }

    @Test
    void anErpDownMakesOnlyTheLedgerFlowNotReady() throws Exception {
        // before: everything ready, so the DOWNs below are caused by the ERP and nothing else
        awaitStatus(WEBHOOK, 200);
        awaitStatus(LEDGER, 200);

        kit.s4.close();

        HttpResponse<String> ledger = kit.get(LEDGER);
        JsonNode l = JSON.readTree(ledger.body());
        assertThat(ledger.statusCode()).as(ledger.body()).isEqualTo(503);
        assertThat(l.path("status").asText()).isEqualTo("DOWN");
        assertThat(l.path("message").asText()).contains("s4hana").doesNotContain("legacyErp");
        assertThat(check(l, "s4hana").path("status").asText()).isEqualTo("DOWN");
        assertThat(check(l, "s4hana").path("message").asText()).contains("not reachable");
        assertThat(check(l, "legacyErp").path("status").asText()).isEqualTo("UP");
        assertThat(check(l, "store").path("status").asText()).isEqualTo("UP");
        assertThat(check(l, "kafka").path("status").asText()).isEqualTo("UP");

        HttpResponse<String> webhook = kit.get(WEBHOOK);
        assertThat(webhook.statusCode()).as(webhook.body()).isEqualTo(200);
        assertThat(JSON.readTree(webhook.body()).path("status").asText()).isEqualTo("UP");
        assertThat(names(JSON.readTree(webhook.body()))).contains("store", "kafka", "route:billing.webhook-ingest")
                .doesNotContain("s4hana", "legacyErp");

        // the instance stays in the load balancer: its readiness, and Camel's overall view, do not include ERPs
        HttpResponse<String> ready = kit.get("/observe/health/ready");
        assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
        HttpResponse<String> health = kit.get("/observe/health");
        assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
        assertThat(JSON.readTree(health.body()).path("status").asText()).isEqualTo("UP");
        HttpResponse<String> live = kit.get("/observe/health/live");
        assertThat(live.statusCode()).as(live.body()).isEqualTo(200);
        // ... and the edge does take events meanwhile; while a DE01 invoice fails at S/4HANA until the target's circuit
        // breaker opens and holds it, the instance never leaves the load balancer
        HttpResponse<String> accepted = kit.sendSigned(Events.bytes(Events.invoiceFinalized("DE01")));
        assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(200);
        assertThat(accepted.body()).contains("accepted");
        List<String> notReady = new ArrayList<>();
        int samples = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!breakerOpen() && System.nanoTime() < deadline) {
            for (String path : List.of("/observe/health/ready", WEBHOOK)) {
                HttpResponse<String> r = kit.get(path);
                samples++;
                if (r.statusCode() != 200) notReady.add(path + " " + r.statusCode() + " " + r.body());
            }
            Thread.sleep(200);
        }
        assertThat(breakerOpen()).as("the postings to the stopped S/4HANA peer opened its circuit breaker").isTrue();
        assertThat(samples).isPositive();
        assertThat(notReady).as("instance or webhook readiness while postings to S/4HANA failed").isEmpty();
        assertThat(kit.get(LEDGER).statusCode()).isEqualTo(503);

        HttpResponse<String> all = kit.get("/observe/health/flows");
        assertThat(all.statusCode()).as(all.body()).isEqualTo(503);
        JsonNode flows = JSON.readTree(all.body()).path("flows");
        assertThat(flows.findValuesAsText("flow")).containsExactly("billing-webhook", "billing-ledger");

        HttpResponse<String> other = kit.get("/observe/health/flows/billing-stream");
        assertThat(other.statusCode()).as(other.body()).isEqualTo(404);
        assertThat(other.body()).contains("not run by this instance");
    }

    @Test
    void theStoreDownMakesTheWebhookFlowAndTheInstanceNotReadyButNotDead() throws Exception {
        awaitStatus(WEBHOOK, 200);
        String database = databaseName(kit.runtime.config().get(Settings.STORE_URL));
        try {
            storeConnections(database, false);
            HttpResponse<String> webhook = awaitStatus(WEBHOOK, 503);
            JsonNode w = JSON.readTree(webhook.body());
            assertThat(w.path("message").asText()).contains("store");
            assertThat(check(w, "store").path("status").asText()).isEqualTo("DOWN");
            assertThat(check(w, "kafka").path("status").asText()).isEqualTo("UP");
            HttpResponse<String> ready = kit.get("/observe/health/ready");
            assertThat(ready.statusCode()).as(ready.body()).isEqualTo(503);
            HttpResponse<String> live = kit.get("/observe/health/live");
            assertThat(live.statusCode()).as(live.body()).isEqualTo(200);
        } finally {
            storeConnections(database, true);
        }
        awaitStatus(WEBHOOK, 200);
        assertThat(kit.get("/observe/health/ready").statusCode()).isEqualTo(200);
    }

    @Test
    void kafkaDownMakesTheWebhookFlowAndTheInstanceNotReadyButNotDead() throws Exception {
        awaitStatus(WEBHOOK, 200);
        try {
            kit.kafka.close();
            HttpResponse<String> webhook = awaitStatus(WEBHOOK, 503);
            JsonNode w = JSON.readTree(webhook.body());
            assertThat(w.path("message").asText()).contains("kafka");
            assertThat(check(w, "kafka").path("status").asText()).isEqualTo("DOWN");
            assertThat(check(w, "store").path("status").asText()).isEqualTo("UP");
            HttpResponse<String> ready = kit.get("/observe/health/ready");
            assertThat(ready.statusCode()).as(ready.body()).isEqualTo(503);
            HttpResponse<String> live = kit.get("/observe/health/live");
            assertThat(live.statusCode()).as(live.body()).isEqualTo(200);
        } finally {
            kit.restartKafka();
        }
        awaitStatus(WEBHOOK, 200);
    }

    @Test
    void anEdgeInstanceShowsItsOwnFlowsAndNoErp() throws Exception {
        try (RuntimeKit edge = RuntimeKit.start(Databases.Backend.H2,
                Map.of("interchange.flows", "billing-webhook,billing-stream"))) {
            HttpResponse<String> all = edge.get("/observe/health/flows");
            assertThat(all.statusCode()).as(all.body()).isEqualTo(200);
            JsonNode flows = JSON.readTree(all.body()).path("flows");
            assertThat(flows.findValuesAsText("flow")).containsExactly("billing-webhook", "billing-stream");
            assertThat(names(flows.get(1))).contains("store", "kafka", "consumer:billing.stream-consumer");
            assertThat(flows.findValuesAsText("name")).doesNotContain("s4hana", "legacyErp");
            assertThat(edge.get(LEDGER).statusCode()).isEqualTo(404);
            // its ERPs being down is none of its business
            edge.s4.close();
            edge.legacy.close();
            assertThat(edge.get("/observe/health/flows").statusCode()).isEqualTo(200);
            assertThat(edge.get("/observe/health/ready").statusCode()).isEqualTo(200);
        }
    }

    private static HttpResponse<String> awaitStatus(String path, int status) {
        HttpResponse<String>[] last = new HttpResponse[1];
        await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            last[0] = kit.get(path);
            assertThat(last[0].statusCode()).as(path + ": " + last[0].body()).isEqualTo(status);
        });
        return last[0];
    }

    private static JsonNode check(JsonNode flow, String name) {
        for (JsonNode c : flow.path("checks")) {
            if (c.path("name").asText().equals(name)) return c;
        }
        throw new AssertionError("no check " + name + " in " + flow);
    }

    private static List<String> names(JsonNode flow) {
        return flow.path("checks").findValuesAsText("name");
    }

    private static String databaseName(String jdbcUrl) {
        String tail = jdbcUrl.substring(jdbcUrl.lastIndexOf('/') + 1);
        return tail.contains("?") ? tail.substring(0, tail.indexOf('?')) : tail;
    }

    /** Lets the runtime's database take connections again, or refuses them and ends those it has: a store outage. */
    private static void storeConnections(String database, boolean allow) throws Exception {
        try (Connection c = Databases.postgres().getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("ALTER DATABASE " + database + " ALLOW_CONNECTIONS " + allow);
            if (!allow) {
                s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + database
                        + "' AND pid <> pg_backend_pid()");
            }
        }
    }

    /** True once the ledger flow's readiness shows the S/4HANA circuit breaker open. */
    private static boolean breakerOpen() throws Exception {
        for (JsonNode c : JSON.readTree(kit.get(LEDGER).body()).path("checks")) {
            if (c.path("name").asText().equals("breaker:s4hana")) return "DOWN".equals(c.path("status").asText());
        }
        return false;
    }
}
