package io.interchange.connectors.webhook;

import io.interchange.connectors.http.WebhookRejection;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;

/**
 * HTTP Basic authentication of a system that signs nothing and authenticates as a user, as SAP's SOAP runtime does
 * when it sends asynchronous messages (a confirmation) to a communication system: user and password in
 * {@code Authorization}, compared in constant time. There is no timestamp to check, so a recorded request can be sent
 * again; the edge's idempotency keys make that a duplicate, and TLS in front of the instance keeps the password out of
 * reach. Refused with 401; 503 while no password is configured.
 */
public final class BasicAuthVerifier implements SignatureVerifier {

    private final byte[] expected;
    private final String settingKey;

    /** {@code settingKey}: the password's setting, named when none is configured. */
    public BasicAuthVerifier(String user, String password, String settingKey) {
        this.settingKey = settingKey;
        this.expected = user == null || user.isBlank() || password == null || password.isEmpty() ? null
                : ("Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)))
                .getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void verify(SignedRequest request) {
        if (expected == null) {
            throw new WebhookRejection(503, "this endpoint has no credentials configured (" + settingKey + ")");
        }
        String given = request.header("Authorization");
        if (given == null || given.isBlank()) {
            throw new WebhookRejection(401, "missing Authorization header: authenticate with the configured user (Basic)");
        }
        if (!MessageDigest.isEqual(expected, given.strip().getBytes(StandardCharsets.UTF_8))) {
            throw new WebhookRejection(401, "user or password not accepted");
        }
    }

    @Override
    public String header() {
        return "Authorization";
    }
}
