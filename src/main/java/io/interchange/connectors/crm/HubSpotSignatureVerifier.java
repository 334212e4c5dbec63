package io.interchange.connectors.crm;

import io.interchange.connectors.http.WebhookRejection;
import io.interchange.connectors.webhook.SignatureVerifier;
import io.interchange.connectors.webhook.SignedRequest;

import javax.crypto.Mac;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * Verifies {@code X-HubSpot-Signature-v3} as HubSpot documents it for webhooks: the base64 of an HMAC-SHA256, keyed with
 * the app's client secret, over the UTF-8 string {@code method + URI + body + timestamp}, where the URI is the full
 * target URL HubSpot called (scheme, host, path and query) with the percent-encodings of {@code : / ? @ ! $ ' ( ) * , ;}
 * decoded, the body is the raw body, and the timestamp is {@code X-HubSpot-Request-Timestamp} (milliseconds since the
 * epoch). A timestamp older than the tolerance (HubSpot: 5 minutes) is refused; so is one further ahead than the
 * tolerance, which would otherwise stay replayable for as long as it is ahead. Signatures are compared in constant
 * time. Several client secrets may be configured (comma-separated) while one is rotated.
 *
 * <p>The URL HubSpot signs is the one it was configured with, which a proxy in front of this instance may have
 * changed: the scheme, host and any path prefix come from {@code interchange.hubspot.public-url} when set, otherwise
 * from the request (its scheme, or {@code X-Forwarded-Proto}, and its {@code Host}); path and query are the request's
 * as received. Refusals are 401 with a reason (HubSpot's own APIs answer a failed authentication 401).
 */
public final class HubSpotSignatureVerifier implements SignatureVerifier {

    public static final String HEADER = "X-HubSpot-Signature-v3";
    public static final String TIMESTAMP_HEADER = "X-HubSpot-Request-Timestamp";

    /** The encodings HubSpot decodes in the URI before signing, upper-case hex (matched case-insensitively). */
    private static final String[][] DECODED = {
            {"%3A", ":"}, {"%2F", "/"}, {"%3F", "?"}, {"%40", "@"}, {"%21", "!"}, {"%24", "$"},
            {"%27", "'"}, {"%28", "("}, {"%29", ")"}, {"%2A", "*"}, {"%2C", ","}, {"%3B", ";"}};

    private final List<ThreadLocal<Mac>> secrets = new ArrayList<>();
    private final String publicUrl;
    private final Duration tolerance;
    private final Clock clock;

    /**
     * @param secrets   the app's client secret (several comma-separated while one is rotated); none refuses every
     *                  request with 503
     * @param publicUrl scheme, host and path prefix under which HubSpot reaches this instance (e.g.
     *                  {@code https://interchange.example.com}), or blank to take them from the request
     */
    public HubSpotSignatureVerifier(String secrets, String publicUrl, Duration tolerance, Clock clock) {
        for (String s : secrets.split(",")) {
            if (!s.isBlank()) this.secrets.add(SignatureVerifier.hmacSha256PerThread(s.strip().getBytes(StandardCharsets.UTF_8)));
        }
        String url = publicUrl == null ? "" : publicUrl.strip();
        this.publicUrl = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        this.tolerance = tolerance;
        this.clock = clock;
    }

    @Override
    public String header() {
        return HEADER;
    }

    @Override
    public void verify(SignedRequest request) {
        if (secrets.isEmpty()) {
            throw new WebhookRejection(503, "HubSpot client secret is not configured on this endpoint "
                    + "(interchange.hubspot.client-secret)");
        }
        String signature = request.header(HEADER);
        if (signature == null || signature.isBlank()) {
            throw new WebhookRejection(401, "missing " + HEADER + " header");
        }
        String timestamp = request.header(TIMESTAMP_HEADER);
        if (timestamp == null || timestamp.isBlank()) {
            throw new WebhookRejection(401, "missing " + TIMESTAMP_HEADER + " header");
        }
        long millis;
        try {
            millis = Long.parseLong(timestamp.strip());
        } catch (NumberFormatException e) {
            throw new WebhookRejection(401, TIMESTAMP_HEADER + " '" + abbreviate(timestamp)
                    + "' is not a number of milliseconds");
        }
        byte[] given;
        try {
            given = Base64.getDecoder().decode(signature.strip());
        } catch (IllegalArgumentException e) {
            given = null;
        }
        String uri = signedUri(request);
        byte[] prefix = (request.method() + uri).getBytes(StandardCharsets.UTF_8);
        byte[] suffix = timestamp.strip().getBytes(StandardCharsets.UTF_8);
        boolean match = false;
        for (ThreadLocal<Mac> secret : secrets) {
            Mac mac = secret.get();
            mac.update(prefix);
            mac.update(request.body());
            byte[] expected = mac.doFinal(suffix); // doFinal also resets the Mac for the next call
            match |= given != null && MessageDigest.isEqual(expected, given);
        }
        if (!match) {
            throw new WebhookRejection(401, HEADER + " does not match the request signed as " + request.method() + " "
                    + abbreviate(uri) + "; check the app's client secret, that the body is sent unmodified and, behind "
                    + "a proxy, interchange.hubspot.public-url");
        }
        // checked after the signature, so a sender without the secret learns nothing from the timestamp answer
        long now = clock.millis();
        long limit = tolerance.toMillis();
        if (millis < now - limit) {
            throw new WebhookRejection(401, "request timestamp " + millis + " is " + (now - millis) / 1000
                    + " s old, outside the tolerance of " + limit / 1000 + " s (replayed or delayed delivery)");
        }
        if (millis > now + limit) {
            throw new WebhookRejection(401, "request timestamp " + millis + " is ahead of this endpoint's clock by more "
                    + "than the tolerance of " + limit / 1000 + " s (check the sender's clock)");
        }
    }

    /** The full URI HubSpot signed, with the encodings it decodes decoded. */
    String signedUri(SignedRequest request) {
        String base = publicUrl;
        if (base.isEmpty()) {
            // scheme and authority as the server saw them (the Host header); a proxy's X-Forwarded-Proto wins
            String url = request.url() == null ? "" : request.url();
            int sep = url.indexOf("://");
            String scheme = sep > 0 ? url.substring(0, sep) : "http";
            int pathStart = sep > 0 ? url.indexOf('/', sep + 3) : -1;
            String authority = sep > 0 ? url.substring(sep + 3, pathStart < 0 ? url.length() : pathStart) : "";
            String proto = request.header("X-Forwarded-Proto");
            if (proto != null && (proto.strip().equalsIgnoreCase("https") || proto.strip().equalsIgnoreCase("http"))) {
                scheme = proto.strip().toLowerCase(Locale.ROOT);
            }
            base = scheme + "://" + authority;
        }
        return decode(base + request.uri());
    }

    /** Decodes exactly the percent-encodings HubSpot's documentation lists; every other one stays as sent. */
    static String decode(String uri) {
        if (uri.indexOf('%') < 0) return uri;
        StringBuilder out = new StringBuilder(uri.length());
        for (int i = 0; i < uri.length(); i++) {
            char c = uri.charAt(i);
            if (c == '%' && i + 2 < uri.length()) {
                String code = uri.substring(i, i + 3).toUpperCase(Locale.ROOT);
                String decoded = null;
                for (String[] d : DECODED) {
                    if (d[0].equals(code)) {
                        decoded = d[1];
                        break;
                    }
                }
                if (decoded != null) {
                    out.append(decoded);
                    i += 2;
                    continue;
                }
            }
            out.append(c);
        }
        return out.toString();
    }

    private static String abbreviate(String s) {
        String printable = s.replaceAll("\\p{Cntrl}", "?");
        return printable.length() > 120 ? printable.substring(0, 120) + "…" : printable;
    }
}
