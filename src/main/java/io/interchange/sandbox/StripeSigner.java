package io.interchange.sandbox;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.List;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** Computes {@code Stripe-Signature} header values exactly as Stripe signs webhook deliveries. */
public final class StripeSigner {

    private static final String ALGORITHM = "HmacSHA256";
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private StripeSigner() {
    }

    /** {@code t=<timestamp>,v1=<signature>} for one signing secret. */
    public static String header(String secret, long timestampSeconds, byte[] payload) {
        return header(secret, timestampSeconds, payload, List.of(), null);
    }

    /**
     * {@code t=<timestamp>,v1=<signature>[,v1=<signature with each additional secret>][,v0=<signature>]}, as Stripe
     * sends while an endpoint secret is being rolled (old and new secret both sign) and in test mode (a v0 scheme
     * receivers must ignore).
     *
     * @param additionalV1Secrets further secrets that each add a {@code v1} entry, e.g. the previous secret
     * @param v0Secret            key of the {@code v0} entry, or null for none
     */
    public static String header(String secret, long timestampSeconds, byte[] payload, List<String> additionalV1Secrets,
                                String v0Secret) {
        StringBuilder out = new StringBuilder("t=").append(timestampSeconds)
                .append(",v1=").append(signature(secret, timestampSeconds, payload));
        for (String extra : additionalV1Secrets) {
            out.append(",v1=").append(signature(extra, timestampSeconds, payload));
        }
        if (v0Secret != null) {
            out.append(",v0=").append(signature(v0Secret, timestampSeconds, payload));
        }
        return out.toString();
    }

    /** Lower-case hex HMAC-SHA256, keyed with the secret's UTF-8 bytes, of {@code "<timestamp>.<payload>"}. */
    public static String signature(String secret, long timestampSeconds, byte[] payload) {
        Objects.requireNonNull(payload, "payload");
        if (secret == null || secret.isEmpty()) {
            throw new IllegalArgumentException("signing secret must not be empty");
        }
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), ALGORITHM));
            mac.update((timestampSeconds + ".").getBytes(StandardCharsets.US_ASCII));
            return hex(mac.doFinal(payload));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is unavailable", e);
        }
    }

    private static String hex(byte[] bytes) {
        char[] out = new char[bytes.length * 2];
        for (int i = 0; i < bytes.length; i++) {
            out[2 * i] = HEX[(bytes[i] >> 4) & 0xf];
            out[2 * i + 1] = HEX[bytes[i] & 0xf];
        }
        return new String(out);
    }
}
