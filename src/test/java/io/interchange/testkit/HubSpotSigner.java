package io.interchange.testkit;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * HubSpot's v3 request signature, computed here independently of the runtime's verifier: base64 of an HMAC-SHA256,
 * keyed with the app's client secret, over {@code method + uri + body + timestamp}, where the caller passes the URI
 * exactly as HubSpot signs it (full URL, the documented percent-encodings decoded).
 */
public final class HubSpotSigner {

    private HubSpotSigner() {
    }

    public static String sign(String secret, String method, String signedUri, byte[] body, long timestampMillis)
            throws Exception {
        ByteArrayOutputStream source = new ByteArrayOutputStream();
        source.write((method + signedUri).getBytes(StandardCharsets.UTF_8));
        source.write(body);
        source.write(Long.toString(timestampMillis).getBytes(StandardCharsets.UTF_8));
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return Base64.getEncoder().encodeToString(mac.doFinal(source.toByteArray()));
    }

    /** The headers HubSpot sends with a POST of this body to this (signed) URI. */
    public static Map<String, String> headers(String secret, String signedUri, byte[] body, long timestampMillis)
            throws Exception {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Content-Type", "application/json");
        h.put("X-HubSpot-Signature-v3", sign(secret, "POST", signedUri, body, timestampMillis));
        h.put("X-HubSpot-Request-Timestamp", Long.toString(timestampMillis));
        return h;
    }
}
