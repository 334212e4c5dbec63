package io.interchange.connectors.billing;

import io.interchange.connectors.http.WebhookRejection;
import io.interchange.connectors.webhook.SignatureVerifier;
import io.interchange.connectors.webhook.SignedRequest;

import javax.crypto.Mac;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Verifies {@code Stripe-Signature} exactly as Stripe specifies: {@code t=<timestamp>} and one or more {@code v1=}
 * HMAC-SHA256 signatures (hex) over {@code "<timestamp>.<raw body>"} with the endpoint's signing secret, compared in
 * constant time; a timestamp further from now than the tolerance, in the past or in the future, is refused to stop
 * replays. Several secrets may be configured (comma-separated) while one is being rolled.
 */
public final class StripeSignatureVerifier implements SignatureVerifier {

    public static final String HEADER = "Stripe-Signature";

    private final List<ThreadLocal<Mac>> secrets;
    private final Duration tolerance;
    private final Clock clock;

    public StripeSignatureVerifier(String secrets, Duration tolerance, Clock clock) {
        this.secrets = new ArrayList<>();
        for (String s : secrets.split(",")) {
            if (!s.isBlank()) this.secrets.add(SignatureVerifier.hmacSha256PerThread(s.strip().getBytes(StandardCharsets.UTF_8)));
        }
        this.tolerance = tolerance;
        this.clock = clock;
    }

    @Override
    public String header() {
        return HEADER;
    }

    @Override
    public void verify(SignedRequest request) {
        verify(request.header(HEADER), request.body());
    }

    /** Returns normally if the payload is authentic and fresh, else throws a 400 rejection saying why. */
    public void verify(String header, byte[] payload) {
        if (secrets.isEmpty()) {
            throw new WebhookRejection(503, "webhook signing secret is not configured on this endpoint");
        }
        if (header == null || header.isBlank()) {
            throw new WebhookRejection(400, "missing " + HEADER + " header");
        }
        Long timestamp = null;
        List<String> v1 = new ArrayList<>();
        for (String part : header.split(",")) {
            int eq = part.indexOf('=');
            if (eq < 0) continue;
            String k = part.substring(0, eq).strip();
            String v = part.substring(eq + 1).strip();
            if (k.equals("t")) {
                try {
                    timestamp = Long.parseLong(v);
                } catch (NumberFormatException e) {
                    throw new WebhookRejection(400, HEADER + " timestamp '" + abbreviate(v) + "' is not a number");
                }
            } else if (k.equals("v1")) {
                v1.add(v);
            }
        }
        if (timestamp == null) {
            throw new WebhookRejection(400, HEADER + " header has no timestamp (t=)");
        }
        if (v1.isEmpty()) {
            throw new WebhookRejection(400, HEADER + " header has no v1 signature");
        }
        byte[] signedPrefix = (timestamp + ".").getBytes(StandardCharsets.UTF_8);
        boolean match = false;
        for (ThreadLocal<Mac> secret : secrets) {
            Mac mac = secret.get();
            mac.update(signedPrefix);
            byte[] expected = mac.doFinal(payload); // doFinal also resets the Mac for the next call
            for (String candidate : v1) {
                byte[] given;
                try {
                    given = HexFormat.of().parseHex(candidate);
                } catch (IllegalArgumentException e) {
                    continue;
                }
                match |= MessageDigest.isEqual(expected, given);
            }
        }
        if (!match) {
            throw new WebhookRejection(400, "no v1 signature matches the payload; check that the endpoint's signing "
                    + "secret is configured and that the body is sent unmodified");
        }
        // Checked after the signature, as Stripe does, so an attacker learns nothing from the timestamp answer.
        // Both directions: a signature dated ahead would otherwise stay replayable for as long as it is ahead.
        long now = clock.instant().getEpochSecond();
        long limit = tolerance.toSeconds();
        if (timestamp < now - limit) {
            String age;
            try {
                age = Math.subtractExact(now, timestamp) + " s old";
            } catch (ArithmeticException e) {
                age = "far in the past";
            }
            throw new WebhookRejection(400, "timestamp " + timestamp + " is " + age + ", outside the tolerance of "
                    + limit + " s (replayed or delayed delivery)");
        }
        if (timestamp > now + limit) {
            throw new WebhookRejection(400, "timestamp " + timestamp + " is ahead of this endpoint's clock by more than "
                    + "the tolerance of " + limit + " s, outside the tolerance (check the sender's clock)");
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 20 ? s.substring(0, 20) + "…" : s;
    }
}
