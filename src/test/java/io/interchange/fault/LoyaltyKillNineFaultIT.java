package io.interchange.fault;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.connectors.loyalty.VoucherifySignatureVerifier;
import io.interchange.mapping.ErpReference;
import io.interchange.sandbox.S4HanaPeer;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * kill -9 of the packaged runtime while the loyalty platform streams points transactions (earned, redeemed, expired)
 * at it, as Voucherify delivers them (signed, retried until a 2xx, some delivered twice), then started again on the same
 * store and Kafka: every transaction is one journal entry at S/4HANA, none twice, no dead letters, and the points
 * liability the ERP holds is the platform's points at their value.
 */
class LoyaltyKillNineFaultIT extends FaultScenario {

    static final ObjectMapper JSON = new ObjectMapper();
    static final Path FIXTURE = Path.of("mappings/loyalty/transaction.fixtures/accrual-order-paid.input.json");
    static final String PROJECT = "proj_fault";
    static final String LIABILITY = "21800000";

    final String secret = "voucherify_fault_" + UUID.randomUUID();
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    final AtomicInteger delivered = new AtomicInteger();
    final AtomicInteger refusedOrDown = new AtomicInteger();

    @Test
    void everyPointsTransactionIsPostedExactlyOnceAcrossAKillNine() throws Exception {
        environment("loyalty-kill-nine");
        RuntimeProcess rt = runtime("a", Map.of("INTERCHANGE_FLOWS", "loyalty-webhook,billing-ledger",
                "INTERCHANGE_LOYALTY_WEBHOOK_SECRET", secret,
                // the fault environment's store has no customer master: every member's points are DE01's (S/4HANA)
                "INTERCHANGE_LOYALTY_DEFAULT_LEGAL_ENTITY", "DE01")).awaitReady(READY);
        URI url = URI.create("http://127.0.0.1:" + rt.httpPort + "/webhooks/loyalty");

        int total = Math.max(300, FaultSettings.events() / 5);
        Random random = new Random(12);
        List<ObjectNode> transactions = new ArrayList<>(total);
        for (int i = 0; i < total; i++) transactions.add(transaction(i, random));

        ExecutorService senders = Executors.newFixedThreadPool(4);
        for (ObjectNode t : transactions) {
            boolean twice = random.nextInt(10) == 0;
            senders.submit(() -> deliver(url, t, twice));
        }
        senders.shutdown();

        while (delivered.get() < total / 2) Thread.sleep(20);
        int before = delivered.get();
        rt.kill9();
        rt.start().awaitReady(READY);
        check(senders.awaitTermination(streamTimeout().toMinutes(), TimeUnit.MINUTES), "every transaction delivered");

        // each transaction one S/4HANA journal entry, found by the reference its canonical event id gives
        Map<String, ObjectNode> byReference = new HashMap<>();
        for (ObjectNode t : transactions) byReference.put(ErpReference.of(eventId(t)), t);
        long deadline = System.nanoTime() + drainTimeout().toNanos();
        Map<String, Integer> posted;
        do {
            Thread.sleep(500);
            posted = new HashMap<>();
            for (S4HanaPeer.Posting p : env.s4.postings()) {
                if (byReference.containsKey(p.documentReferenceId())) posted.merge(p.documentReferenceId(), 1, Integer::sum);
            }
        } while (posted.size() < total && System.nanoTime() < deadline);

        String report = "loyalty transactions " + total + ", delivered before the kill " + before
                + ", deliveries refused or unanswered (retried) " + refusedOrDown.get() + ", posted " + posted.size()
                + ", posted twice " + posted.values().stream().filter(n -> n > 1).count();
        System.out.println(report);
        assertThat(posted).as(report).hasSize(total);
        assertThat(posted.values()).as("no transaction posted twice: " + report).containsOnly(1);
        assertThat(env.deadLetters()).as("no dead letters").isEmpty();

        // the liability at S/4HANA is the platform's points at DE01's value (one cent a point)
        BigDecimal liability = BigDecimal.ZERO;
        long points = 0;
        for (S4HanaPeer.Posting p : env.s4.postings()) {
            if (!byReference.containsKey(p.documentReferenceId())) continue;
            for (S4HanaPeer.Line l : p.lines()) if (LIABILITY.equals(l.glAccount())) liability = liability.add(l.amount());
        }
        for (ObjectNode t : transactions) points += t.path("data").path("transaction").path("details").path("balance")
                .path("points").asLong();
        assertThat(liability.negate()).as("SAP signs credits negative").isEqualByComparingTo(
                BigDecimal.valueOf(points).movePointLeft(2));
        assertThat(rt.starts()).isEqualTo(2);
    }

    private static void check(boolean ok, String what) {
        assertThat(ok).as(what).isTrue();
    }

    /** A transaction of the platform: an accrual, a redemption or an expiration, made now. */
    private static ObjectNode transaction(int i, Random random) throws Exception {
        ObjectNode w = (ObjectNode) JSON.readTree(FIXTURE.toFile());
        w.put("id", "whs_fault_" + i).put("project_id", PROJECT);
        ((ObjectNode) w.path("event")).put("id", "evvou_fault_" + i);
        ObjectNode t = (ObjectNode) w.path("data").path("transaction");
        int kind = random.nextInt(10);
        long points = kind < 6 ? 1 + random.nextInt(500) : -(1 + random.nextInt(200));
        t.put("id", "vtx_fault_" + i).put("created_at", Instant.now().toString())
                .put("type", kind < 6 ? "POINTS_ACCRUAL" : kind < 9 ? "POINTS_REDEMPTION" : "POINTS_EXPIRATION");
        ((ObjectNode) t.path("details").path("balance")).put("points", points);
        ((ObjectNode) w.path("data").path("holder")).put("source_id", "gc-fault-" + random.nextInt(50));
        return w;
    }

    private static String eventId(ObjectNode webhook) {
        return "voucherify:" + PROJECT + ":" + webhook.path("data").path("transaction").path("id").asText();
    }

    /** Delivers as Voucherify does: until a 2xx (scaled-down retries), and once more when {@code twice}. */
    private void deliver(URI url, ObjectNode webhook, boolean twice) {
        try {
            byte[] body = JSON.writeValueAsBytes(webhook);
            HttpRequest request = HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "application/json")
                    .header(VoucherifySignatureVerifier.HEADER, VoucherifySignatureVerifier.sign(body, secret))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
            for (int sent = 0; sent < (twice ? 2 : 1); sent++) {
                while (true) {
                    int status;
                    try {
                        status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
                    } catch (java.io.IOException e) {
                        status = -1;
                    }
                    if (status >= 200 && status < 300) break;
                    refusedOrDown.incrementAndGet();
                    Thread.sleep(200);
                }
            }
            delivered.incrementAndGet();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
