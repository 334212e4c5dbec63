package io.interchange.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BillingSimulatorTest {

    private static final String SECRET = "whsec_sandbox_test_secret";
    private static final ObjectMapper JSON = new ObjectMapper();

    private HttpServer server;
    private ExecutorService executor;
    private BillingSimulator simulator;

    /** What the fake webhook endpoint saw, in arrival order. */
    private final List<JsonNode> acceptedEvents = new CopyOnWriteArrayList<>();
    private final Set<String> acceptedIds = ConcurrentHashMap.newKeySet();
    private final AtomicInteger badSignatures = new AtomicInteger();
    private final AtomicInteger duplicates = new AtomicInteger();
    private final AtomicInteger unavailable = new AtomicInteger();
    private final List<String> protocolErrors = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        if (simulator != null) {
            simulator.close();
        }
        if (server != null) {
            server.stop(0);
            executor.shutdownNow();
        }
    }

    @Test
    void postsASignedRealisticStreamWithDeliberatelyBadDeliveries() throws Exception {
        // first attempt of every failed-payment notice gets 503, to exercise Stripe-style retries
        Set<String> refusedOnce = ConcurrentHashMap.newKeySet();
        URI url = startEndpoint(event -> event.path("type").asText().equals("invoice.payment_failed")
                && refusedOnce.add(event.path("id").asText()) ? 503 : 200);
        simulator = new BillingSimulator(url, SECRET, 42, 50, Duration.ofMillis(200));

        simulator.start();
        Thread.sleep(2_000);
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            BillingSimulator.Stats s = simulator.stats();
            return s.duplicatesAcknowledged() > 0 && s.rejected() > 0 && s.retried() > 0;
        });
        long started = System.nanoTime();
        simulator.close();
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(6));
        BillingSimulator.Stats stats = simulator.stats();

        assertThat(protocolErrors).isEmpty();
        assertThat(stats.sent()).isBetween(50L, 150L);
        assertThat(stats.sentPerLegalEntity()).containsKeys("DE01", "US01", "GB01", "FR01", "ZZ99");
        assertThat(stats.sentPerLegalEntity().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(stats.sent());
        assertThat(stats.failed()).isZero();
        // deliveries in flight at close() may have reached the endpoint without their answers being counted
        long inFlight = BillingSimulator.MAX_IN_FLIGHT;
        long settled = stats.accepted() + stats.duplicatesAcknowledged() + stats.rejected();
        assertThat(settled).isBetween(stats.sent() - inFlight - 5, stats.sent());
        assertThat((long) acceptedIds.size()).isBetween(stats.accepted(), stats.accepted() + inFlight);
        assertThat((long) duplicates.get()).isBetween(stats.duplicatesAcknowledged(), stats.duplicatesAcknowledged() + inFlight);
        assertThat((long) badSignatures.get()).isBetween(stats.rejected(), stats.rejected() + inFlight);
        assertThat(stats.retried()).isGreaterThanOrEqualTo(1).isLessThanOrEqualTo(unavailable.get());
        assertThat(stats.recentRejections()).isNotEmpty().allSatisfy(reason -> assertThat(reason)
                .matches("400 wrong-signature evt_[A-Za-z0-9]{24}: No signatures found matching the expected signature.*"));

        // lifecycles are consistent: payments are for finalized invoices, refunds for paid ones (in any arrival order)
        Set<String> finalized = new HashSet<>();
        Set<String> paid = new HashSet<>();
        Set<String> paymentAttempts = new HashSet<>();
        Set<String> refunded = new HashSet<>();
        Map<String, Integer> types = new HashMap<>();
        for (JsonNode event : acceptedEvents) {
            JsonNode object = event.path("data").path("object");
            String type = event.path("type").asText();
            types.merge(type, 1, Integer::sum);
            switch (type) {
                case "invoice.finalized" -> finalized.add(object.path("id").asText());
                case "invoice.paid" -> {
                    paid.add(object.path("charge").asText()); // refunds name the charge they return
                    paymentAttempts.add(object.path("id").asText());
                }
                case "invoice.payment_failed" -> paymentAttempts.add(object.path("id").asText());
                case "refund.created" -> refunded.add(object.path("charge").asText());
                default -> throw new AssertionError("unexpected event type " + type);
            }
        }
        assertThat(finalized).containsAll(paymentAttempts);
        assertThat(paid).doesNotContainNull();
        assertThat(paid).containsAll(refunded);
        assertThat(types).containsKeys("invoice.finalized", "invoice.paid");
        assertThat(acceptedEvents).anySatisfy(e ->
                assertThat(e.path("data").path("object").path("metadata").path("legal_entity").asText()).isEqualTo("ZZ99"));

        long sentAtClose = simulator.stats().sent();
        Thread.sleep(300);
        assertThat(simulator.stats().sent()).isEqualTo(sentAtClose);
    }

    @Test
    void retriesServerErrorsAndCountsFailuresWhenTheEndpointStaysDown() throws Exception {
        URI url = startEndpoint(event -> 500);
        simulator = new BillingSimulator(url, SECRET, 7, 20);

        simulator.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> simulator.stats().failed() >= 3);
        simulator.close();
        BillingSimulator.Stats stats = simulator.stats();

        assertThat(stats.accepted()).isZero();
        assertThat(stats.rejected()).isZero();
        assertThat(stats.retried()).isGreaterThanOrEqualTo(3 * stats.failed());
        assertThat(protocolErrors).isEmpty();
    }

    /** Starts a webhook endpoint that verifies signatures and answers {@code status.apply(event)} to valid ones. */
    private URI startEndpoint(Function<JsonNode, Integer> status) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        executor = Executors.newFixedThreadPool(4);
        server.setExecutor(executor);
        server.createContext("/webhooks/billing", exchange -> {
            try (exchange) {
                serve(exchange, status);
            } catch (RuntimeException | IOException e) {
                protocolErrors.add(e.toString());
                throw e;
            }
        });
        server.start();
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/webhooks/billing");
    }

    private void serve(HttpExchange exchange, Function<JsonNode, Integer> status) throws IOException {
        byte[] body = exchange.getRequestBody().readAllBytes();
        var headers = exchange.getRequestHeaders();
        if (!"POST".equals(exchange.getRequestMethod())
                || !"application/json; charset=utf-8".equals(headers.getFirst("Content-Type"))
                || !"Stripe/1.0 (+https://stripe.com/docs/webhooks)".equals(headers.getFirst("User-Agent"))) {
            protocolErrors.add("unexpected request " + exchange.getRequestMethod() + " " + headers);
        }
        if (!verified(headers.getFirst("Stripe-Signature"), body)) {
            badSignatures.incrementAndGet();
            answer(exchange, 400, "No signatures found matching the expected signature for payload");
            return;
        }
        JsonNode event = JSON.readTree(body);
        String id = event.path("id").asText();
        int code = status.apply(event);
        if (code != 200) {
            unavailable.incrementAndGet();
            answer(exchange, code, "unavailable");
        } else if (acceptedIds.add(id)) {
            acceptedEvents.add(event);
            answer(exchange, 200, "{\"received\":true}");
        } else {
            duplicates.incrementAndGet();
            answer(exchange, 200, "{\"received\":true,\"duplicate\":true}");
        }
    }

    /** Stripe's verification: a fresh timestamp and at least one matching v1 signature; other schemes ignored. */
    private boolean verified(String header, byte[] body) {
        if (header == null) {
            return false;
        }
        Long timestamp = null;
        List<String> v1 = new ArrayList<>();
        boolean v0 = false;
        for (String part : header.split(",")) {
            String[] kv = part.split("=", 2);
            if (kv.length != 2) {
                continue;
            }
            switch (kv[0]) {
                case "t" -> timestamp = Long.parseLong(kv[1]);
                case "v1" -> v1.add(kv[1]);
                case "v0" -> v0 = true;
                default -> { }
            }
        }
        if (!v0) {
            protocolErrors.add("test-mode delivery without a v0 signature: " + header);
        }
        if (timestamp == null || Math.abs(System.currentTimeMillis() / 1000 - timestamp) > 300) {
            return false;
        }
        byte[] expected = StripeSignerTest.stripeSignature(SECRET, timestamp, body).getBytes(StandardCharsets.US_ASCII);
        return v1.stream().anyMatch(s -> MessageDigest.isEqual(expected, s.getBytes(StandardCharsets.US_ASCII)));
    }

    private static void answer(HttpExchange exchange, int status, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", text.startsWith("{") ? "application/json" : "text/plain");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }
}
