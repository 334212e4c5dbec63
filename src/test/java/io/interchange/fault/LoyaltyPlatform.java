package io.interchange.fault;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.connectors.loyalty.VoucherifySignatureVerifier;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The loyalty platform as the fault scenarios play it: points transactions (accruals, redemptions, expiries) of one
 * project, delivered as Voucherify delivers its webhooks (signed, retried until a 2xx).
 */
final class LoyaltyPlatform {

    static final ObjectMapper JSON = new ObjectMapper();
    static final Path FIXTURE = Path.of("mappings/loyalty/transaction.fixtures/accrual-order-paid.input.json");
    static final String PROJECT = "proj_fault";

    final String secret = "voucherify_fault_" + UUID.randomUUID();
    final AtomicInteger delivered = new AtomicInteger();
    final AtomicInteger refusedOrDown = new AtomicInteger();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    /** A transaction of the platform made at {@code createdAt}: an accrual, a redemption or an expiration. */
    static ObjectNode transaction(int i, Random random, Instant createdAt) throws Exception {
        ObjectNode w = (ObjectNode) JSON.readTree(FIXTURE.toFile());
        w.put("id", "whs_fault_" + i).put("project_id", PROJECT);
        ((ObjectNode) w.path("event")).put("id", "evvou_fault_" + i);
        ObjectNode t = (ObjectNode) w.path("data").path("transaction");
        int kind = random.nextInt(10);
        long points = kind < 6 ? 1 + random.nextInt(500) : -(1 + random.nextInt(200));
        t.put("id", "vtx_fault_" + i).put("created_at", createdAt.toString())
                .put("type", kind < 6 ? "POINTS_ACCRUAL" : kind < 9 ? "POINTS_REDEMPTION" : "POINTS_EXPIRATION");
        ((ObjectNode) t.path("details").path("balance")).put("points", points);
        ((ObjectNode) w.path("data").path("holder")).put("source_id", "gc-fault-" + random.nextInt(50));
        return w;
    }

    static String transactionId(ObjectNode webhook) {
        return webhook.path("data").path("transaction").path("id").asText();
    }

    /** The canonical event id the runtime gives a transaction. */
    static String eventId(ObjectNode webhook) {
        return "voucherify:" + PROJECT + ":" + transactionId(webhook);
    }

    /** Delivers as Voucherify does: until a 2xx (scaled-down retries), and once more when {@code twice}. */
    void deliver(URI url, ObjectNode webhook, boolean twice) {
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
