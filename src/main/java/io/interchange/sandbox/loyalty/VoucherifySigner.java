package io.interchange.sandbox.loyalty;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;

/**
 * Signs a webhook body as Voucherify does: {@code x-voucherify-signature} is the lowercase hex of an HMAC-SHA256 keyed
 * with the project's webhook secret over the body with every whitespace character outside JSON strings removed. So the
 * same JSON sent pretty-printed or compact carries the same signature, and a receiver must remove the whitespace the
 * same way before it compares. No timestamp is signed: a receiver recognises a repeated delivery by the envelope's
 * {@code id}, not by the signature.
 *
 * <p>The sender's side only (the sandbox's loyalty platform); the runtime's verifier is its own code, so a mistake
 * made in one is not silently mirrored in the other.
 */
public final class VoucherifySigner {

    public static final String HEADER = "x-voucherify-signature";

    private VoucherifySigner() {
    }

    /** The signature of a body (its text as sent, any whitespace), under a secret. */
    public static String sign(String secret, String body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal(compact(body).getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JVM", e);
        }
    }

    /**
     * The body with whitespace outside strings removed: inside a string (between an unescaped {@code "} and the next
     * one) every character stays, a backslash escaping the character after it ({@code \"} does not end the string).
     * Whitespace is what {@link Character#isWhitespace} says, as in Voucherify's published Java sample.
     */
    public static String compact(String json) {
        StringBuilder out = new StringBuilder(json.length());
        boolean quoted = false;
        boolean escaped = false;
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            if (quoted) {
                if (escaped) escaped = false;
                else if (c == '\\') escaped = true;
                else if (c == '"') quoted = false;
                out.append(c);
                continue;
            }
            if (c == '"') quoted = true;
            else if (Character.isWhitespace(c)) continue;
            out.append(c);
        }
        return out.toString();
    }
}
