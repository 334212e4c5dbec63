package io.interchange.sandbox.hubspot;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A HubSpot app's webhook deliveries, for the sandbox: arrays of contact or company events in HubSpot's shape
 * ({@code eventId}, {@code subscriptionId}, {@code portalId}, {@code appId}, {@code occurredAt},
 * {@code subscriptionType}, {@code attemptNumber}, {@code objectId}, {@code changeFlag}, {@code changeSource},
 * {@code propertyName}, {@code propertyValue}), POSTed to the target URL and signed as HubSpot signs them:
 * {@code X-HubSpot-Signature-v3} is the base64 of an HMAC-SHA256 keyed with the app's client secret over
 * {@code POST + target URL + body + timestamp}, with {@code X-HubSpot-Request-Timestamp} in milliseconds. The target
 * URL here holds none of the percent-encodings HubSpot decodes before signing, so it is signed as it is sent.
 *
 * <p>Like HubSpot it sends a delivery again, with {@code attemptNumber} counted up, when it is answered with a 409,
 * 429 or 5xx or not at all (HubSpot retries any 4xx and 5xx; a 400 or 401 here is a fault of the sender, which
 * sending again would not mend).
 */
public final class HubSpotWebhookSender {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The subscription ids of the app's event types (HubSpot gives each subscription a number of its own). */
    private static final long CREATION_SUBSCRIPTION = 2_208_110;
    private static final long PROPERTY_SUBSCRIPTION = 2_208_111;
    private static final int ATTEMPTS = 3;

    private final URI target;
    private final String clientSecret;
    private final long portalId;
    private final long appId;
    private final AtomicLong eventIds;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /**
     * @param target       the webhook target URL the app is configured with ({@code .../webhooks/hubspot})
     * @param clientSecret the app's client secret, which keys the signature
     * @param portalId     the HubSpot account (portal) the events come from
     * @param firstEventId where this sender's event ids start (HubSpot's are large numbers, unique enough per app)
     */
    public HubSpotWebhookSender(URI target, String clientSecret, long portalId, long appId, long firstEventId) {
        this.target = target;
        this.clientSecret = clientSecret;
        this.portalId = portalId;
        this.appId = appId;
        this.eventIds = new AtomicLong(firstEventId);
    }

    public long portalId() {
        return portalId;
    }

    /** A {@code <objectType>.creation} event (it carries no properties: HubSpot sends them as events of their own). */
    public ObjectNode creation(String objectType, String objectId) {
        return event(objectType + ".creation", CREATION_SUBSCRIPTION, objectId, "CREATED")
                .put("changeSource", "CRM_UI");
    }

    /** A {@code <objectType>.propertyChange} event: one property's new value. */
    public ObjectNode propertyChange(String objectType, String objectId, String property, String value,
                                     String changeSource) {
        return event(objectType + ".propertyChange", PROPERTY_SUBSCRIPTION, objectId, "UPDATED")
                .put("propertyName", property).put("propertyValue", value).put("changeSource", changeSource);
    }

    private ObjectNode event(String type, long subscriptionId, String objectId, String changeFlag) {
        return JSON.createObjectNode()
                .put("eventId", eventIds.incrementAndGet())
                .put("subscriptionId", subscriptionId)
                .put("portalId", portalId)
                .put("appId", appId)
                .put("occurredAt", System.currentTimeMillis())
                .put("subscriptionType", type)
                .put("attemptNumber", 0)
                .put("objectId", Long.parseLong(objectId))
                .put("changeFlag", changeFlag)
                .put("sourceId", "userId:1502");
    }

    /**
     * Delivers the events as one signed request and returns the final status: 200 once accepted, else the last status
     * answered (0 when no answer came), after up to {@value #ATTEMPTS} attempts a second apart.
     */
    public int deliver(List<ObjectNode> events) throws InterruptedException {
        int status = 0;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            ArrayNode body = JSON.createArrayNode();
            for (ObjectNode e : events) body.add(e.deepCopy().put("attemptNumber", attempt));
            try {
                byte[] bytes = JSON.writeValueAsBytes(body);
                long timestamp = System.currentTimeMillis();
                HttpRequest request = HttpRequest.newBuilder(target)
                        .timeout(Duration.ofSeconds(10))
                        .header("Content-Type", "application/json")
                        .header("User-Agent", "HubSpot Connect 2.0 (http://dev.hubspot.com/)")
                        .header("X-HubSpot-Signature-Version", "v3")
                        .header("X-HubSpot-Signature-v3", sign(clientSecret, "POST", target.toString(), bytes, timestamp))
                        .header("X-HubSpot-Request-Timestamp", Long.toString(timestamp))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(bytes))
                        .build();
                status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
            } catch (IOException e) {
                status = 0;
            }
            if (status == 200 || status == 400 || status == 401 || status == 415) return status;
            Thread.sleep(1000);
        }
        return status;
    }

    /** HubSpot's v3 signature of a request: base64 of HMAC-SHA256(secret, method + uri + body + timestamp). */
    public static String sign(String secret, String method, String uri, byte[] body, long timestampMillis) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            mac.update((method + uri).getBytes(StandardCharsets.UTF_8));
            mac.update(body);
            return Base64.getEncoder().encodeToString(mac.doFinal(Long.toString(timestampMillis)
                    .getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }
}
