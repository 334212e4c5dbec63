package io.interchange.connectors.webhook;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;

/**
 * Checks that a webhook comes from the system it claims to come from, exactly as that system specifies its signature.
 * One per inbound system ({@code StripeSignatureVerifier}, {@code HubSpotSignatureVerifier}, ...); the webhook edge
 * calls it on the raw request before it reads the body.
 */
public interface SignatureVerifier {

    /**
     * Returns normally when the request is authentic and fresh; otherwise throws a
     * {@link io.interchange.connectors.http.WebhookRejection} with the status the system's senders expect (4xx) and a
     * reason the sender can act on, or 503 when this endpoint has no secret to check with.
     */
    void verify(SignedRequest request);

    /** The header that carries the signature, named in documentation and in refusals. */
    String header();

    /**
     * An HMAC-SHA256 keyed with {@code secret}, one per thread (a Mac is not thread-safe): creating and keying a Mac per
     * request was a third of the cost of checking a Stripe signature.
     */
    static ThreadLocal<Mac> hmacSha256PerThread(byte[] secret) {
        return ThreadLocal.withInitial(() -> {
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(new SecretKeySpec(secret, "HmacSHA256"));
                return mac;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("HmacSHA256 unavailable", e);
            }
        });
    }
}
