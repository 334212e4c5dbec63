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
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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
    /** Set once the test closes the simulator: it abandons deliveries in flight, whose answers then meet a closed socket. */
    private volatile boolean closing;

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

    @ParameterizedTest
    @ValueSource(strings = {StripeEventFactory.API_2024_06_20, StripeEventFactory.API_DAHLIA})
    void postsASignedRealisticStreamWithDeliberatelyBadDeliveries(String apiVersion) throws Exception {
        // first attempt of every failed-payment notice gets 503, to exercise Stripe-style retries
        Set<String> refusedOnce = ConcurrentHashMap.newKeySet();
        URI url = startEndpoint(event -> event.path("type").asText().equals("invoice.payment_failed")
                && refusedOnce.add(event.path("id").asText()) ? 503 : 200);
        simulator = new BillingSimulator(url, SECRET, 42, 50, Duration.ofMillis(200), apiVersion);

        simulator.start();
        Thread.sleep(2_000);
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            BillingSimulator.Stats s = simulator.stats();
            return s.duplicatesAcknowledged() > 0 && s.rejected() > 0 && s.retried() > 0;
        });
        long started = System.nanoTime();
        closing = true;
        simulator.close();
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(6));
        BillingSimulator.Stats stats = simulator.stats();

        assertThat(protocolErrors).isEmpty();
        assertThat(stats.sent()).isBetween(50L, 150L);
        assertThat(stats.sentPerLegalEntity()).containsOnlyKeys("DE01", "US01", "GB01", "FR01", "ZZ99");
        assertThat(stats.sentPerLegalEntity().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(stats.sent());
        assertThat(stats.ledgerPerLegalEntity()).isNotEmpty().allSatisfy((entity, n) ->
                assertThat(n).isPositive().isLessThanOrEqualTo(stats.sentPerLegalEntity().get(entity)));
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
        assertThat(acceptedEvents).allSatisfy(e -> assertThat(e.path("api_version").asText()).isEqualTo(apiVersion));
        assertThat(stats.sentPerType().keySet()).contains("invoice.finalized")
                .contains(apiVersion.equals(StripeEventFactory.API_DAHLIA) ? "invoice_payment.paid" : "invoice.paid");

        Map<String, Integer> types = assertLifecyclesInOrder(acceptedEvents);
        assertThat(types).containsKeys("invoice.finalized", "invoice.paid");
        assertThat(acceptedEvents).anySatisfy(e ->
                assertThat(e.path("data").path("object").path("metadata").path("legal_entity").asText()).isEqualTo("ZZ99"));

        long sentAtClose = simulator.stats().sent();
        Thread.sleep(300);
        assertThat(simulator.stats().sent()).isEqualTo(sentAtClose);
    }

    /**
     * A few seconds of the stream at a high rate, in every kind the version has, taken by the runtime's own translation
     * and posting rules in the order it arrived: nothing parked or refused, every posting balanced, and per invoice the
     * receivable and the bank as Stripe's own amounts say (what remains owed; payments less refunds and disputed funds).
     */
    @ParameterizedTest
    @ValueSource(strings = {StripeEventFactory.API_2024_06_20, StripeEventFactory.API_DAHLIA})
    void everyKindOfEventArrivesAfterWhatItNeedsAndPostsThroughTheRuntime(String apiVersion) throws Exception {
        URI url = startEndpoint(event -> 200);
        simulator = new BillingSimulator(url, SECRET, 7, 400, Duration.ofSeconds(60), apiVersion);
        simulator.start();
        await().atMost(Duration.ofSeconds(20)).until(() -> acceptedEvents.size() >= 800);
        closing = true;
        simulator.close();
        // the answers to events in flight at close() were abandoned: what arrived is what counts
        List<JsonNode> arrived = List.copyOf(acceptedEvents);
        assertThat(protocolErrors).isEmpty();

        Map<String, Integer> types = assertLifecyclesInOrder(arrived);
        boolean basil = !apiVersion.equals(StripeEventFactory.API_2024_06_20);
        assertThat(types).containsKeys("invoice.finalized", "invoice.paid", "invoice.payment_failed", "invoice.voided",
                "invoice.marked_uncollectible", "refund.created", "charge.refunded", "credit_note.created",
                "charge.dispute.created", "charge.dispute.funds_withdrawn", "charge.dispute.closed");
        if (basil) {
            assertThat(types).containsKey("invoice_payment.paid");
        } else {
            assertThat(types).doesNotContainKey("invoice_payment.paid");
        }
        Map<String, List<JsonNode>> byInvoice = new HashMap<>();
        Map<String, String> invoiceOfPayment = new HashMap<>();
        Map<String, Long> bank = new HashMap<>();
        Map<String, Long> remaining = new HashMap<>();
        Set<String> settled = new HashSet<>();
        Set<String> kinds = new TreeSet<>();
        int partiallyPaid = 0;
        try (LedgerReplay replay = new LedgerReplay()) {
            for (JsonNode event : arrived) {
                String type = event.path("type").asText();
                JsonNode o = event.path("data").path("object");
                LedgerReplay.Outcome outcome = replay.apply(event);
                assertThat(outcome.ignored()).as(type).isEqualTo(type.equals("charge.refunded")
                        || type.equals("invoice.paid") && basil);
                if (outcome.posting() != null) {
                    assertThat(outcome.posting().imbalanceMinor()).as("%s balanced", type).isZero();
                    kinds.add(outcome.posting().kind());
                }
                if (outcome.ignored() || outcome.envelope().legalEntity().equals(BillingSimulator.UNKNOWN_LEGAL_ENTITY)) {
                    continue;
                }
                String invoice = LedgerReplay.invoiceId(outcome.canonical());
                switch (type) {
                    case "invoice.finalized", "invoice.payment_failed", "invoice.paid", "invoice.voided",
                         "invoice.marked_uncollectible" -> {
                        if (o.path("status").asText().equals("open")) {
                            remaining.put(invoice, o.path("amount_remaining").asLong());
                        } else {
                            settled.add(invoice);
                        }
                        if (type.equals("invoice.paid") && !basil) {
                            bank.merge(invoice, o.path("amount_paid").asLong(), Long::sum);
                        }
                    }
                    case "invoice_payment.paid" -> {
                        bank.merge(invoice, o.path("amount_paid").asLong(), Long::sum);
                        remaining.merge(invoice, -o.path("amount_paid").asLong(), Long::sum);
                        if (!o.path("is_default").asBoolean()) partiallyPaid++;
                    }
                    case "credit_note.created" -> remaining.merge(invoice, -o.path("pre_payment_amount")
                            .asLong(o.path("type").asText().equals("pre_payment") ? o.path("total").asLong() : 0), Long::sum);
                    case "refund.created" -> bank.merge(invoice, -o.path("amount").asLong(), Long::sum);
                    case "charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated" -> {
                        JsonNode last = o.path("balance_transactions").get(o.path("balance_transactions").size() - 1);
                        bank.merge(invoice, last.path("net").asLong(), Long::sum);
                    }
                    default -> { }
                }
                byInvoice.computeIfAbsent(invoice, k -> new ArrayList<>()).add(event);
            }
            assertThat(byInvoice).hasSizeGreaterThan(100);
            for (String invoice : byInvoice.keySet()) {
                assertThat(replay.net(invoice, LedgerReplay.RECEIVABLE)).as("receivable of %s", invoice)
                        .isEqualTo(settled.contains(invoice) ? 0 : remaining.getOrDefault(invoice, 0L));
                assertThat(replay.net(invoice, LedgerReplay.BANK)).as("bank of %s", invoice)
                        .isEqualTo(bank.getOrDefault(invoice, 0L));
            }
        }
        assertThat(kinds).contains("INVOICE", "INVOICE_REVERSAL", "WRITE_OFF", "PAYMENT", "REFUND", "CREDIT_NOTE",
                "DISPUTE_WITHDRAWAL");
        if (basil) {
            assertThat(partiallyPaid).as("partial InvoicePayments").isPositive();
        }
    }

    /**
     * Checks that every event arrived after what the receiver needs to have seen first: an invoice's events after its
     * {@code invoice.finalized}, refunds and disputes after the payment (charge or PaymentIntent) they are about; and
     * that refunds, disputes, InvoicePayments and credit notes carry no legal entity (Stripe copies none). Returns the
     * event types seen, with their counts.
     */
    private static Map<String, Integer> assertLifecyclesInOrder(List<JsonNode> events) {
        Set<String> finalized = new HashSet<>();
        Set<String> payments = new HashSet<>();
        Map<String, Integer> types = new TreeMap<>();
        for (JsonNode event : events) {
            JsonNode object = event.path("data").path("object");
            String type = event.path("type").asText();
            types.merge(type, 1, Integer::sum);
            switch (object.path("object").asText()) {
                case "invoice" -> {
                    if (type.equals("invoice.finalized")) {
                        finalized.add(object.path("id").asText());
                    } else {
                        assertThat(finalized).as("%s after invoice.finalized", type).contains(object.path("id").asText());
                    }
                    if (type.equals("invoice.paid") && object.has("charge")) {
                        assertThat(object.path("charge").isTextual()).as("invoice.paid names its charge").isTrue();
                        payments.add(object.path("charge").asText());
                        payments.add(object.path("payment_intent").asText());
                    }
                }
                case "invoice_payment", "credit_note" -> {
                    assertThat(finalized).as("%s after invoice.finalized", type).contains(object.path("invoice").asText());
                    payments.add(object.path("payment").path("payment_intent").asText());
                }
                case "refund", "dispute", "charge" -> assertThat(payments).as("%s after its payment", type)
                        .containsAnyOf(object.path("charge").asText(), object.path("payment_intent").asText(),
                                object.path("id").asText());
                default -> throw new AssertionError("unexpected event type " + type);
            }
            if (!object.path("object").asText().equals("invoice")) {
                assertThat(object.path("metadata").path("legal_entity").isMissingNode()).as(type).isTrue();
            }
        }
        return types;
    }

    @Test
    void retriesServerErrorsAndCountsFailuresWhenTheEndpointStaysDown() throws Exception {
        URI url = startEndpoint(event -> 500);
        simulator = new BillingSimulator(url, SECRET, 7, 20);

        simulator.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> simulator.stats().failed() >= 3);
        closing = true;
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
            } catch (IOException e) {
                if (!closing) protocolErrors.add(e.toString());
                throw e;
            } catch (RuntimeException e) {
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
