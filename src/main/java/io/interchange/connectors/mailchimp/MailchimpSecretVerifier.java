package io.interchange.connectors.mailchimp;

import io.interchange.connectors.http.WebhookRejection;
import io.interchange.connectors.rest.FormBody;
import io.interchange.connectors.webhook.SignatureVerifier;
import io.interchange.connectors.webhook.SignedRequest;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Mailchimp signs no webhook (no HMAC, no signature header). What its guide advises instead, and what this checks: an
 * unguessable secret in the webhook URL registered at Mailchimp, {@code https://<host>/webhooks/mailchimp?secret=<s>},
 * compared in constant time on every POST; refused 401 with a reason when missing or wrong, 503 while none is
 * configured ({@code interchange.mailchimp.webhook-secret}). Nothing is signed, so the secret protects the endpoint only
 * as long as the URL stays private and travels over TLS; a recorded request can be sent again, and the edge's
 * idempotency key makes it a duplicate. The secret is in the query, never in the path, so the edge's logs (which name
 * paths) never show it.
 */
public final class MailchimpSecretVerifier implements SignatureVerifier {

    /** The query parameter of the registered webhook URL that carries the secret. */
    public static final String PARAMETER = "secret";

    private final byte[] secret;
    private final String settingKey;

    public MailchimpSecretVerifier(String secret, String settingKey) {
        this.secret = secret == null || secret.isBlank() ? null : secret.strip().getBytes(StandardCharsets.UTF_8);
        this.settingKey = settingKey;
    }

    @Override
    public void verify(SignedRequest request) {
        if (secret == null) {
            throw new WebhookRejection(503, "this endpoint has no webhook secret configured (" + settingKey + ")");
        }
        String uri = request.uri();
        int q = uri == null ? -1 : uri.indexOf('?');
        String given = null;
        if (q >= 0) {
            try {
                given = FormBody.parse(uri.substring(q + 1)).get(PARAMETER);
            } catch (IllegalArgumentException e) {
                throw new WebhookRejection(401, "malformed query string: register the webhook URL with ?" + PARAMETER
                        + "=<the configured secret>");
            }
        }
        if (given == null || given.isEmpty()) {
            throw new WebhookRejection(401, "missing " + PARAMETER + " query parameter: Mailchimp does not sign "
                    + "webhooks, so the webhook URL must carry ?" + PARAMETER + "=<the configured secret>");
        }
        if (!MessageDigest.isEqual(secret, given.getBytes(StandardCharsets.UTF_8))) {
            throw new WebhookRejection(401, "webhook secret not accepted");
        }
    }

    @Override
    public String header() {
        return "?" + PARAMETER + "=";
    }
}
