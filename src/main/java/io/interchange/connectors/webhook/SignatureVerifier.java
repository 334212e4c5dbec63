package io.interchange.connectors.webhook;

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
}
