package io.interchange.connectors.crm;

import io.interchange.connectors.http.WebhookRejection;
import io.interchange.connectors.webhook.SignedRequest;
import io.interchange.testkit.HubSpotSigner;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** X-HubSpot-Signature-v3 as HubSpot documents it, against signatures computed independently ({@link HubSpotSigner}). */
class HubSpotSignatureVerifierTest {

    static final String SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
    static final Instant NOW = Instant.parse("2026-12-05T09:00:00Z");
    static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    static final byte[] BODY = ("[{\"eventId\":1,\"subscriptionId\":12345,\"portalId\":62515,\"occurredAt\":1564113600000,"
            + "\"subscriptionType\":\"contact.creation\",\"attemptNumber\":0,\"objectId\":123,\"changeSource\":\"CRM\","
            + "\"changeFlag\":\"NEW\",\"appId\":54321}]").getBytes(StandardCharsets.UTF_8);
    static final String PUBLIC = "https://interchange.example.com";

    final HubSpotSignatureVerifier verifier = new HubSpotSignatureVerifier(SECRET, PUBLIC, Duration.ofMinutes(5), CLOCK);

    static SignedRequest request(String uri, byte[] body, Map<String, String> headers) {
        return request("http://10.0.0.7:8080" + uri, uri, body, headers);
    }

    static SignedRequest request(String url, String uri, byte[] body, Map<String, String> headers) {
        Map<String, String> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        h.putAll(headers);
        return new SignedRequest("POST", uri, url, h::get, body);
    }

    static Map<String, String> signed(String signedUri, byte[] body, Instant at) throws Exception {
        return HubSpotSigner.headers(SECRET, signedUri, body, at.toEpochMilli());
    }

    @Test
    void aSignatureOverMethodFullUrlBodyAndTimestampIsAccepted() throws Exception {
        var r = request("/webhooks/hubspot", BODY, signed(PUBLIC + "/webhooks/hubspot", BODY, NOW.minusSeconds(30)));
        assertThatCode(() -> verifier.verify(r)).doesNotThrowAnyException();
    }

    @Test
    void theDocumentedPercentEncodingsAreDecodedBeforeSigningAndNoOthers() throws Exception {
        String sent = "/webhooks/hubspot?app=hs%3Av3%2Fwebhooks&who=%40me%21&x=%28a%29%2A%2C%3B%24%27%3f&q=a%20b";
        String signedAs = PUBLIC + "/webhooks/hubspot?app=hs:v3/webhooks&who=@me!&x=(a)*,;$'?&q=a%20b";
        assertThatCode(() -> verifier.verify(request(sent, BODY, signed(signedAs, BODY, NOW))))
                .doesNotThrowAnyException();
        // a signature over the URI as sent (undecoded) is not HubSpot's
        assertThatThrownBy(() -> verifier.verify(request(sent, BODY, signed(PUBLIC + sent, BODY, NOW))))
                .isInstanceOf(WebhookRejection.class);
        assertThat(HubSpotSignatureVerifier.decode("/a?b=%20%3a%3A%25")).isEqualTo("/a?b=%20::%25");
    }

    @Test
    void withoutAPublicUrlTheSchemeAndHostComeFromTheRequest() throws Exception {
        var fromRequest = new HubSpotSignatureVerifier(SECRET, "", Duration.ofMinutes(5), CLOCK);
        String url = "http://hooks.example.org/webhooks/hubspot?a=%3A";
        Map<String, String> h = new HashMap<>(signed("http://hooks.example.org/webhooks/hubspot?a=:", BODY, NOW));
        assertThatCode(() -> fromRequest.verify(request(url, "/webhooks/hubspot?a=%3A", BODY, h)))
                .doesNotThrowAnyException();
        // behind a proxy that terminated TLS: HubSpot signed https
        Map<String, String> https = new HashMap<>(signed("https://hooks.example.org/webhooks/hubspot?a=:", BODY, NOW));
        https.put("X-Forwarded-Proto", "https");
        assertThatCode(() -> fromRequest.verify(request(url, "/webhooks/hubspot?a=%3A", BODY, https)))
                .doesNotThrowAnyException();
        https.remove("X-Forwarded-Proto");
        assertThatThrownBy(() -> fromRequest.verify(request(url, "/webhooks/hubspot?a=%3A", BODY, https)))
                .isInstanceOf(WebhookRejection.class).hasMessageContaining("http://hooks.example.org/webhooks/hubspot");
    }

    @Test
    void aWrongSecretATamperedBodyOrAMissingHeaderIsRefusedWith401() throws Exception {
        String uri = PUBLIC + "/webhooks/hubspot";
        Map<String, String> other = HubSpotSigner.headers("another-secret", uri, BODY, NOW.toEpochMilli());
        assertRefused(request("/webhooks/hubspot", BODY, other), "does not match");
        byte[] tampered = new String(BODY, StandardCharsets.UTF_8).replace("\"objectId\":123", "\"objectId\":124")
                .getBytes(StandardCharsets.UTF_8);
        assertRefused(request("/webhooks/hubspot", tampered, signed(uri, BODY, NOW)), "does not match");
        Map<String, String> noSignature = new HashMap<>(signed(uri, BODY, NOW));
        noSignature.remove("X-HubSpot-Signature-v3");
        assertRefused(request("/webhooks/hubspot", BODY, noSignature), "missing X-HubSpot-Signature-v3");
        Map<String, String> noTimestamp = new HashMap<>(signed(uri, BODY, NOW));
        noTimestamp.remove("X-HubSpot-Request-Timestamp");
        assertRefused(request("/webhooks/hubspot", BODY, noTimestamp), "missing X-HubSpot-Request-Timestamp");
        Map<String, String> notBase64 = new HashMap<>(signed(uri, BODY, NOW));
        notBase64.put("X-HubSpot-Signature-v3", "not base64 at all!");
        assertRefused(request("/webhooks/hubspot", BODY, notBase64), "does not match");
        // the timestamp is signed: moving it invalidates the signature
        Map<String, String> moved = new HashMap<>(signed(uri, BODY, NOW));
        moved.put("X-HubSpot-Request-Timestamp", Long.toString(NOW.toEpochMilli() + 1));
        assertRefused(request("/webhooks/hubspot", BODY, moved), "does not match");
    }

    @Test
    void aTimestampOlderThanFiveMinutesOrFurtherAheadIsRefused() throws Exception {
        String uri = PUBLIC + "/webhooks/hubspot";
        assertRefused(request("/webhooks/hubspot", BODY, signed(uri, BODY, NOW.minusSeconds(301))), "s old");
        assertRefused(request("/webhooks/hubspot", BODY, signed(uri, BODY, NOW.plusSeconds(301))), "ahead");
        assertThatCode(() -> verifier.verify(request("/webhooks/hubspot", BODY, signed(uri, BODY, NOW.minusSeconds(299)))))
                .doesNotThrowAnyException();
    }

    @Test
    void aRotatedSecretIsAcceptedAlongsideTheCurrentOneAndNoSecretRefusesEverythingWith503() throws Exception {
        var rotating = new HubSpotSignatureVerifier("old-secret, " + SECRET, PUBLIC, Duration.ofMinutes(5), CLOCK);
        assertThatCode(() -> rotating.verify(request("/webhooks/hubspot", BODY, signed(PUBLIC + "/webhooks/hubspot",
                BODY, NOW)))).doesNotThrowAnyException();
        var none = new HubSpotSignatureVerifier("", PUBLIC, Duration.ofMinutes(5), CLOCK);
        assertThatThrownBy(() -> none.verify(request("/webhooks/hubspot", BODY, signed(PUBLIC + "/webhooks/hubspot",
                BODY, NOW)))).isInstanceOfSatisfying(WebhookRejection.class, r -> assertThat(r.status()).isEqualTo(503));
    }

    private void assertRefused(SignedRequest r, String reason) {
        assertThatThrownBy(() -> verifier.verify(r)).isInstanceOfSatisfying(WebhookRejection.class, e -> {
            assertThat(e.status()).isEqualTo(401);
            assertThat(e.getMessage()).contains(reason);
        });
    }
}
