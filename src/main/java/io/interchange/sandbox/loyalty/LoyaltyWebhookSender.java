package io.interchange.sandbox.loyalty;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The loyalty platform's project webhook, as Voucherify sends it (envelope v2024-01-01): each event POSTed as JSON to
 * the configured target URL with {@code x-voucherify-signature} ({@link VoucherifySigner}), asynchronously (the API
 * call that caused it has long been answered). A delivery not answered 2xx within 10 s is tried again after 1, 2, 4,
 * 8, 16, 32 minutes, 1h04, 2h08, 4h16, 8h32, 17h04 and 24h (12 tries; Voucherify then disables the webhook), the
 * schedule scaled by {@code retryUnit} (one minute for the real thing, milliseconds in tests). Every other body is
 * pretty-printed, as nothing obliges a sender to send compact JSON, so a receiver's whitespace removal is exercised;
 * a delivery can be sent again ({@link #redeliver}), as Voucherify's dashboard "Retry" does, to make duplicates.
 */
public final class LoyaltyWebhookSender implements AutoCloseable {

    /** Voucherify's retry schedule in minutes after the first attempt. */
    static final long[] RETRY_MINUTES = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 1440};
    private static final Logger LOG = LoggerFactory.getLogger(LoyaltyWebhookSender.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration ANSWER_WITHIN = Duration.ofSeconds(10);

    /** One webhook send-out: the envelope's id, type, the body as first sent, and how its attempts went. */
    public record Delivery(String id, String type, String body, List<Integer> statuses, boolean delivered) {
    }

    private final URI target;
    private final String secret;
    private final String projectId;
    private final String webhookId;
    private final Duration retryUnit;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ScheduledExecutorService executor = Executors.newScheduledThreadPool(2, r -> {
        Thread t = new Thread(r, "loyalty-webhooks");
        t.setDaemon(true);
        return t;
    });
    private final AtomicLong sequence = new AtomicLong();
    private final Map<String, Delivery> deliveries = new LinkedHashMap<>();

    /**
     * @param retryUnit what one minute of Voucherify's retry schedule is here ({@code PT1M} as the platform does)
     */
    public LoyaltyWebhookSender(URI target, String secret, String projectId, String webhookId, Duration retryUnit) {
        this.target = target;
        this.secret = secret;
        this.projectId = projectId;
        this.webhookId = webhookId;
        this.retryUnit = retryUnit;
    }

    /**
     * Sends an event: wrapped in the envelope, signed, POSTed in the background with retries.
     *
     * @param entityId what the event is about ({@code v_...} for a voucher's, {@code cust_...} for a customer's)
     * @param channel  {@code API} for a call with the project's keys, {@code INTERNAL} for what the platform did on its
     *                 own (an expiry), {@code USER_PORTAL} for the dashboard
     * @return the envelope's id ({@code whs_...})
     */
    public String send(String type, ObjectNode data, String entityId, String channel, String appId) {
        long n = sequence.incrementAndGet();
        String now = Instant.now().toString();
        String id = "whs_" + hex(n, 18);
        ObjectNode envelope = JSON.createObjectNode().put("id", id).put("project_id", projectId).put("created_at", now)
                .put("type", type);
        envelope.set("data", data);
        envelope.putObject("source").put("id", webhookId).put("object", "webhook").put("target_url", target.toString());
        ObjectNode event = envelope.putObject("event").put("id", (type.startsWith("customer.") ? "evcus_" : "evvou_")
                + hex(n, 18)).put("type", type).put("created_at", now).put("entity_id", entityId)
                .put("group_id", "v-" + hex(n, 18));
        ObjectNode source = event.putObject("event_source").put("channel", channel);
        if ("API".equals(channel)) source.putObject("api_key").put("name", "interchange").put("app_id", appId);
        String body;
        try {
            body = n % 2 == 0 ? JSON.writerWithDefaultPrettyPrinter().writeValueAsString(envelope)
                    : JSON.writeValueAsString(envelope);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        synchronized (deliveries) {
            deliveries.put(id, new Delivery(id, type, body, List.of(), false));
        }
        executor.execute(() -> attempt(id, body, 0));
        return id;
    }

    /** Sends a delivery again, body and id unchanged (a receiver must take it for the duplicate it is). */
    public void redeliver(String id) {
        Delivery d = delivery(id);
        if (d == null) throw new IllegalArgumentException("no webhook " + id);
        executor.execute(() -> attempt(id, d.body(), RETRY_MINUTES.length)); // a manual retry is not retried again
    }

    /** Every send-out so far, in order. */
    public List<Delivery> deliveries() {
        synchronized (deliveries) {
            return List.copyOf(deliveries.values());
        }
    }

    public Delivery delivery(String id) {
        synchronized (deliveries) {
            return deliveries.get(id);
        }
    }

    private void attempt(String id, String body, int attempt) {
        int status;
        try {
            HttpResponse<Void> answer = http.send(HttpRequest.newBuilder(target).timeout(ANSWER_WITHIN)
                    .header("Content-Type", "application/json")
                    .header(VoucherifySigner.HEADER, VoucherifySigner.sign(secret, body))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.discarding());
            status = answer.statusCode();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (Exception e) {
            status = 0; // unreachable, timed out: a failed attempt like any non-2xx
        }
        boolean ok = status / 100 == 2;
        synchronized (deliveries) {
            Delivery d = deliveries.get(id);
            List<Integer> statuses = new ArrayList<>(d.statuses());
            statuses.add(status);
            deliveries.put(id, new Delivery(id, d.type(), d.body(), List.copyOf(statuses), d.delivered() || ok));
        }
        if (ok || attempt >= RETRY_MINUTES.length) {
            if (!ok) LOG.warn("Loyalty webhook {} not delivered after {} attempts (last status {})", id, attempt + 1, status);
            return;
        }
        long delay = retryUnit.toMillis() * RETRY_MINUTES[attempt];
        executor.schedule(() -> attempt(id, body, attempt + 1), delay, TimeUnit.MILLISECONDS);
    }

    private static String hex(long n, int width) {
        String h = Long.toHexString(System.currentTimeMillis()) + Long.toHexString(n);
        StringBuilder sb = new StringBuilder(h);
        while (sb.length() < width) sb.insert(0, '0');
        return sb.substring(sb.length() - width);
    }

    /** Parses a body as the receiver would (for tests). */
    public static JsonNode read(String body) throws JsonProcessingException {
        return JSON.readTree(body);
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
