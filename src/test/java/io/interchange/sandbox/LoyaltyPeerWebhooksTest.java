package io.interchange.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.interchange.sandbox.loyalty.LoyaltyPeer;
import io.interchange.sandbox.loyalty.LoyaltyWebhookSender;
import io.interchange.sandbox.loyalty.VoucherifySigner;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The loyalty peer's signature (Voucherify's published test vectors), and its project webhooks as a receiver sees
 * them: signed over the body with whitespace outside strings removed (some bodies pretty-printed), the v2024-01-01
 * envelope, a transaction event per balance change and tier events as the balance crosses tiers, retried on non-2xx,
 * sent again on request with the same id.
 */
class LoyaltyPeerWebhooksTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String SECRET = "webhook-secret";
    static final String CAMPAIGN = "camp_tiers";
    LoyaltyPeer peer;
    HttpServer receiver;
    final List<String[]> received = new CopyOnWriteArrayList<>(); // {signature, body}
    final AtomicInteger refuseNext = new AtomicInteger();

    @BeforeEach
    void start() throws Exception {
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/webhooks/loyalty", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            int status = refuseNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0 ? 500 : 200;
            if (status == 200) received.add(new String[]{exchange.getRequestHeaders().getFirst(VoucherifySigner.HEADER), body});
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        receiver.start();
        peer = new LoyaltyPeer(0, "app", "token").program(CAMPAIGN, "Tiered Program")
                .tier(CAMPAIGN, "ltr_basic", "Basic", 0, 499).tier(CAMPAIGN, "ltr_silver", "Silver", 500, 1999)
                .tier(CAMPAIGN, "ltr_gold", "Gold", 2000, 10_000_000).start();
        peer.sendWebhooks(URI.create("http://127.0.0.1:" + receiver.getAddress().getPort() + "/webhooks/loyalty"), SECRET,
                Duration.ofMillis(20));
    }

    @AfterEach
    void stop() {
        if (peer != null) peer.close();
        if (receiver != null) receiver.stop(0);
    }

    @Test
    void theSignatureMatchesVoucherifysPublishedVectorsWhateverTheWhitespace() {
        assertThat(VoucherifySigner.sign("secretKey", "{\"a\":1}"))
                .isEqualTo("a17d2ac229d1ebbb5f10e839c7985c4818e5986eab297f7e5979196d4d7d3ed2");
        assertThat(VoucherifySigner.sign("secretKey", "{\n  \"a\": 1\n}"))
                .isEqualTo("a17d2ac229d1ebbb5f10e839c7985c4818e5986eab297f7e5979196d4d7d3ed2");
        assertThat(VoucherifySigner.sign("secretKey", "{\"a\\\"b\":1}"))
                .isEqualTo("f7cf97814a03146abedb9793f56e1dec34f618f82d10395310d053f749483ffb");
        assertThat(VoucherifySigner.sign("secretKey", "{\n  \"a\\\"b\": 1\n}"))
                .isEqualTo("f7cf97814a03146abedb9793f56e1dec34f618f82d10395310d053f749483ffb");
        assertThat(VoucherifySigner.compact("{ \"a b\" : \"c \\\" d\" }")).isEqualTo("{\"a b\":\"c \\\" d\"}");
    }

    String card() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(peer.url()
                        + "/v1/loyalties/" + CAMPAIGN + "/members")).header("X-App-Id", "app").header("X-App-Token", "token")
                .POST(HttpRequest.BodyPublishers.ofString("{\"customer\":{\"source_id\":\"gc-1\"}}")).build(),
                HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body()).path("code").asText();
    }

    List<JsonNode> bodies() throws Exception {
        List<JsonNode> out = new java.util.ArrayList<>();
        for (String[] r : received) out.add(JSON.readTree(r[1]));
        return out;
    }

    @Test
    void everyBalanceChangeIsASignedTransactionWebhookAndCrossingTiersSendsTierEvents() throws Exception {
        String code = card();
        peer.addPoints(code, 600);   // Basic (balance 0) -> Silver: upgraded
        peer.addPoints(code, 1_500); // -> Gold: upgraded
        peer.expire(code, 2_000);    // 100 left -> Basic: downgraded
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 6);

        for (String[] r : received) {
            assertThat(r[0]).as("lowercase hex HMAC over the compacted body").matches("[0-9a-f]{64}")
                    .isEqualTo(VoucherifySigner.sign(SECRET, VoucherifySigner.compact(r[1])));
        }
        assertThat(received).as("some bodies pretty-printed").anySatisfy(r -> assertThat(r[1]).contains("\n"));
        List<JsonNode> events = bodies();
        assertThat(events).extracting(e -> e.path("type").asText()).containsExactlyInAnyOrder(
                "voucher.loyalty_card.transaction.created", "voucher.loyalty_card.transaction.created",
                "voucher.loyalty_card.transaction.created", "customer.loyalty.tier.upgraded",
                "customer.loyalty.tier.upgraded", "customer.loyalty.tier.downgraded");
        JsonNode expiry = events.stream().filter(e -> e.path("data").path("transaction").path("type").asText()
                .equals("POINTS_EXPIRATION")).findFirst().orElseThrow();
        assertThat(expiry.path("id").asText()).startsWith("whs_");
        assertThat(expiry.path("source").path("object").asText()).isEqualTo("webhook");
        assertThat(expiry.path("event").path("type").asText()).isEqualTo("voucher.loyalty_card.transaction.created");
        assertThat(expiry.path("event").path("event_source").path("channel").asText()).isEqualTo("INTERNAL");
        JsonNode data = expiry.path("data");
        assertThat(data.path("transaction").path("id").asText()).startsWith("vtx_");
        assertThat(data.path("transaction").path("details").path("balance").path("points").asLong()).isEqualTo(-2_000);
        assertThat(data.path("transaction").path("source_id").isNull()).isTrue();
        assertThat(data.path("voucher").path("code").asText()).isEqualTo(code);
        assertThat(data.path("voucher").path("loyalty_card").path("balance").asLong()).isEqualTo(100);
        assertThat(data.path("balance").path("balance").asLong()).isEqualTo(100);
        assertThat(data.path("holder").path("source_id").asText()).isEqualTo("gc-1");
        assertThat(data.path("holder_loyalty_tier").path("name").asText()).isEqualTo("Basic");
        assertThat(data.path("campaign").path("campaign_type").asText()).isEqualTo("LOYALTY_PROGRAM");
        JsonNode down = events.stream().filter(e -> e.path("type").asText().endsWith("downgraded")).findFirst().orElseThrow();
        assertThat(down.path("data").path("loyalty_tier_from").path("name").asText()).isEqualTo("Gold");
        assertThat(down.path("data").path("loyalty_tier_to").path("name").asText()).isEqualTo("Basic");
        assertThat(down.path("data").path("customer").path("object").asText()).isEqualTo("customer");
        assertThat(down.path("event").path("entity_id").asText()).startsWith("cust_");
        assertThat(peer.member(code).path("loyalty_card").path("expired_points").asLong()).isEqualTo(2_000);
    }

    @Test
    void aRefusedDeliveryIsRetriedAndOneCanBeSentAgainUnchanged() throws Exception {
        String code = card();
        refuseNext.set(2);
        peer.addPoints(code, 10);
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 1);
        LoyaltyWebhookSender.Delivery d = peer.webhooks().deliveries().get(0);
        assertThat(d.statuses()).containsExactly(500, 500, 200);
        peer.webhooks().redeliver(d.id());
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 2);
        assertThat(received.get(1)[1]).isEqualTo(received.get(0)[1]);
        assertThat(received.get(1)[0]).isEqualTo(received.get(0)[0]);
    }

    @Test
    void withoutATargetNothingIsSent() throws Exception {
        try (LoyaltyPeer quiet = new LoyaltyPeer(0, "app", "token").program(CAMPAIGN, "Quiet").start()) {
            assertThat(quiet.webhooks()).isNull();
        }
    }
}
