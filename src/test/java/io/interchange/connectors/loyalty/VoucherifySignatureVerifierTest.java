package io.interchange.connectors.loyalty;

import io.interchange.connectors.http.WebhookRejection;
import io.interchange.connectors.webhook.SignedRequest;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code x-voucherify-signature} against the examples of Voucherify's own documentation (secret {@code secretKey}). */
class VoucherifySignatureVerifierTest {

    static final String DOC_SECRET = "secretKey";

    private static SignedRequest request(String body, String signature) {
        Map<String, String> headers = signature == null ? Map.of() : Map.of(VoucherifySignatureVerifier.HEADER, signature);
        return new SignedRequest("POST", "/webhooks/loyalty", null, headers::get, body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void theDocumentedSignaturesVerifyWhateverWhitespaceTheJsonCarries() {
        var verifier = new VoucherifySignatureVerifier(DOC_SECRET, "interchange.loyalty.webhook-secret");
        String a = "a17d2ac229d1ebbb5f10e839c7985c4818e5986eab297f7e5979196d4d7d3ed2";
        verifier.verify(request("{\"a\":1}", a));
        verifier.verify(request("{\n  \"a\": 1\n}", a));
        // an escaped quote does not end the string
        verifier.verify(request("{\n  \"a\\\"b\": 1\n}", "f7cf97814a03146abedb9793f56e1dec34f618f82d10395310d053f749483ffb"));
        assertThat(VoucherifySignatureVerifier.sign("{ \"a\" : 1 }".getBytes(StandardCharsets.UTF_8), DOC_SECRET))
                .isEqualTo(a);
    }

    @Test
    void whitespaceInsideAStringIsSigned() {
        var verifier = new VoucherifySignatureVerifier(DOC_SECRET, "interchange.loyalty.webhook-secret");
        String signature = VoucherifySignatureVerifier.sign("{\"a\":\"x y\"}".getBytes(StandardCharsets.UTF_8), DOC_SECRET);
        verifier.verify(request("{ \"a\" : \"x y\" }", signature));
        assertThatThrownBy(() -> verifier.verify(request("{\"a\":\"xy\"}", signature)))
                .isInstanceOf(WebhookRejection.class);
    }

    @Test
    void aWrongMissingOrMalformedSignatureIs401WithAReasonAndNoSecretIs503() {
        var verifier = new VoucherifySignatureVerifier("other, " + DOC_SECRET, "interchange.loyalty.webhook-secret");
        verifier.verify(request("{\"a\":1}", "a17d2ac229d1ebbb5f10e839c7985c4818e5986eab297f7e5979196d4d7d3ed2"));
        assertThatThrownBy(() -> verifier.verify(request("{\"a\":2}",
                "a17d2ac229d1ebbb5f10e839c7985c4818e5986eab297f7e5979196d4d7d3ed2")))
                .isInstanceOf(WebhookRejection.class).hasMessageContaining("does not match")
                .satisfies(e -> assertThat(((WebhookRejection) e).status()).isEqualTo(401));
        assertThatThrownBy(() -> verifier.verify(request("{\"a\":1}", null))).hasMessageContaining("missing");
        assertThatThrownBy(() -> verifier.verify(request("{\"a\":1}", "zz"))).hasMessageContaining("hexadecimal");
        assertThatThrownBy(() -> new VoucherifySignatureVerifier("", "interchange.loyalty.webhook-secret")
                .verify(request("{}", "00"))).satisfies(e -> assertThat(((WebhookRejection) e).status()).isEqualTo(503))
                .hasMessageContaining("interchange.loyalty.webhook-secret");
    }
}
