package io.interchange.connectors.mailchimp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.config.Config;
import io.interchange.config.Settings;
import io.interchange.connectors.rest.RestAuth;
import io.interchange.connectors.rest.RestBody;
import io.interchange.connectors.rest.RestClient;
import io.interchange.connectors.rest.RestRequest;
import io.interchange.connectors.rest.RestTarget;
import io.interchange.reliability.TransientFailure;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;

/**
 * An audience's members at the e-mail marketing platform, Mailchimp Marketing API v3, a REST target of the connector
 * kit (route {@link #ROUTE_ID}): HTTP Basic with any user name and the API key as password, the data center in the
 * host ({@code https://<dc>.api.mailchimp.com}, {@code <dc>} being the key's suffix after {@code -}). A member is named
 * by its subscriber hash, the MD5 of the lower-cased e-mail address. Setting a status is
 * {@code PATCH /3.0/lists/{list_id}/members/{subscriber_hash}} with {@code {"status": ...}}: asked again it sets the
 * same status, so retries are safe without an idempotency key.
 */
public final class MailchimpMembers {

    public static final String ROUTE_ID = "consent.mailchimp-api";
    public static final String SUBSCRIBED = "subscribed";
    public static final String UNSUBSCRIBED = "unsubscribed";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final RestClient client;

    public MailchimpMembers(RestTarget target) {
        this.client = new RestClient(target);
    }

    /** The target of the configuration ({@code interchange.mailchimp.*}). */
    public static MailchimpMembers from(Config config) {
        String key = config.get(Settings.MAILCHIMP_API_KEY);
        String url = config.get(Settings.MAILCHIMP_API_URL).strip();
        if (url.isEmpty()) {
            int dash = key.lastIndexOf('-');
            url = dash < 0 ? "https://api.mailchimp.com" : "https://" + key.substring(dash + 1).strip() + ".api.mailchimp.com";
        }
        try {
            return new MailchimpMembers(RestTarget.of(ROUTE_ID, "Mailchimp Marketing API", url,
                    config.getDuration(Settings.MAILCHIMP_API_TIMEOUT), config.getInt(Settings.MAILCHIMP_API_MAX_RATE),
                    RestAuth.basic("interchange", key)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("interchange.mailchimp.api-url / api-max-rate: " + e.getMessage(), e);
        }
    }

    public RestClient client() {
        return client;
    }

    public boolean enabled() {
        return client.enabled();
    }

    /** Mailchimp's subscriber hash: MD5 of the lower-cased e-mail address, lower-case hex. */
    public static String subscriberHash(String email) {
        try {
            byte[] md5 = MessageDigest.getInstance("MD5").digest(email.strip().toLowerCase(Locale.ROOT)
                    .getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md5);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 unavailable", e);
        }
    }

    /**
     * Sets a member's status ({@link #SUBSCRIBED} or {@link #UNSUBSCRIBED}); answers the status Mailchimp holds after
     * it. A member that is not in the audience is a permanent failure (404), like wrong keys (401).
     */
    public String setStatus(String listId, String subscriberHash, String status) {
        JsonNode answer = client.call(new RestRequest("PATCH", "/3.0/lists/" + listId + "/members/" + subscriberHash,
                Map.of(), Map.of(), RestBody.json(JSON.createObjectNode().put("status", status)), null)).json();
        String held = answer.path("status").asText("");
        if (held.isEmpty()) {
            throw new TransientFailure("Mailchimp API PATCH member " + subscriberHash + " answered no status");
        }
        return held;
    }
}
