package io.interchange.connectors.loyalty;

import io.interchange.connectors.http.WebhookRejection;
import io.interchange.connectors.webhook.SignatureVerifier;
import io.interchange.connectors.webhook.SignedRequest;

import javax.crypto.Mac;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Verifies {@code x-voucherify-signature} as Voucherify documents it for its webhooks (project, distribution and
 * workflow webhooks alike): the lowercase hex of an HMAC-SHA256, keyed with the project's webhook secret, over the body
 * with every whitespace character outside JSON strings removed (Voucherify signs the compact form of the JSON it sends,
 * whatever whitespace the delivery carries). Characters after a backslash inside a string are kept as they are, so an
 * escaped quote does not end the string.
 *
 * <p>No time is signed, so a signature cannot go stale: a replayed delivery is absorbed by the idempotency key (the
 * loyalty transaction's or the event's id), never by a tolerance. Signatures are compared in constant time; several
 * secrets may be configured (comma-separated) while one is rotated. A refusal is 401 with a reason.
 */
public final class VoucherifySignatureVerifier implements SignatureVerifier {

    public static final String HEADER = "x-voucherify-signature";

    private final List<ThreadLocal<Mac>> secrets = new ArrayList<>();
    private final String setting;

    /**
     * @param secrets the project's webhook secret (several comma-separated while one is rotated); none refuses every
     *                request with 503
     * @param setting the setting that holds the secret, named in the refusal when none is configured
     */
    public VoucherifySignatureVerifier(String secrets, String setting) {
        for (String s : secrets == null ? new String[0] : secrets.split(",")) {
            if (!s.isBlank()) this.secrets.add(SignatureVerifier.hmacSha256PerThread(s.strip().getBytes(StandardCharsets.UTF_8)));
        }
        this.setting = setting;
    }

    @Override
    public String header() {
        return HEADER;
    }

    @Override
    public void verify(SignedRequest request) {
        if (secrets.isEmpty()) {
            throw new WebhookRejection(503, "the loyalty platform's webhook secret is not configured on this endpoint ("
                    + setting + ")");
        }
        String signature = request.header(HEADER);
        if (signature == null || signature.isBlank()) {
            throw new WebhookRejection(401, "missing " + HEADER + " header");
        }
        byte[] given;
        try {
            given = HexFormat.of().parseHex(signature.strip());
        } catch (IllegalArgumentException e) {
            throw new WebhookRejection(401, HEADER + " is not a hexadecimal HMAC-SHA256");
        }
        byte[] signed = compact(request.body());
        boolean match = false;
        for (ThreadLocal<Mac> secret : secrets) {
            byte[] expected = secret.get().doFinal(signed); // doFinal resets the Mac for the next call
            match |= MessageDigest.isEqual(expected, given);
        }
        if (!match) {
            throw new WebhookRejection(401, HEADER + " does not match the body; check the project's webhook secret ("
                    + setting + ") and that the body is sent unmodified");
        }
    }

    /** The signature Voucherify sends for {@code body} under {@code secret}: for tests and the sandbox's platform. */
    public static String sign(byte[] body, String secret) {
        return HexFormat.of().formatHex(SignatureVerifier.hmacSha256PerThread(secret.getBytes(StandardCharsets.UTF_8))
                .get().doFinal(compact(body)));
    }

    /**
     * The body as Voucherify signs it: whitespace outside JSON strings removed. Works on the UTF-8 bytes (a multi-byte
     * character never contains an ASCII byte), with Java's {@code Character.isWhitespace} on the ASCII range, as
     * Voucherify's Java sample does on characters.
     */
    static byte[] compact(byte[] body) {
        byte[] out = new byte[body.length];
        int n = 0;
        boolean quoted = false;
        boolean escaped = false;
        for (byte b : body) {
            if (escaped) {
                out[n++] = b;
                escaped = false;
                continue;
            }
            if (b == '"') quoted = !quoted;
            else if (b == '\\') escaped = true;
            if (!quoted && b >= 0 && Character.isWhitespace(b)) continue;
            out[n++] = b;
        }
        return n == out.length ? out : java.util.Arrays.copyOf(out, n);
    }
}
