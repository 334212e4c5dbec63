package io.interchange.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class StripeSignerTest {

    private static final byte[] PAYLOAD = "{\"id\":\"evt_test\",\"object\":\"event\"}".getBytes(StandardCharsets.UTF_8);

    @Test
    void independentHmacMatchesRfc4231() {
        assertThat(hmacSha256("Jefe".getBytes(StandardCharsets.UTF_8),
                "what do ya want for nothing?".getBytes(StandardCharsets.UTF_8)))
                .isEqualTo("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    @Test
    void signsTimestampDotPayloadWithTheSecretAsStripeDoes() {
        // computed with Python's hmac module
        String expected = "8042376f6ca064adbe037642a718227dfd59047137eb49497a54c49eb0cfb724";

        assertThat(stripeSignature("whsec_test_secret", 1_700_000_000L, PAYLOAD)).isEqualTo(expected);
        assertThat(StripeSigner.signature("whsec_test_secret", 1_700_000_000L, PAYLOAD)).isEqualTo(expected);
        assertThat(StripeSigner.header("whsec_test_secret", 1_700_000_000L, PAYLOAD))
                .isEqualTo("t=1700000000,v1=" + expected);
    }

    @Test
    void addsOneV1PerAdditionalSecretAndAnOptionalV0() {
        String header = StripeSigner.header("whsec_new", 1_763_802_001L, PAYLOAD, List.of("whsec_old", "whsec_older"),
                "whsec_v0");

        List<String> v1 = new ArrayList<>();
        String t = null;
        String v0 = null;
        for (String part : header.split(",")) {
            String[] kv = part.split("=", 2);
            switch (kv[0]) {
                case "t" -> t = kv[1];
                case "v1" -> v1.add(kv[1]);
                case "v0" -> v0 = kv[1];
                default -> throw new AssertionError("unexpected scheme in " + header);
            }
        }
        assertThat(header).startsWith("t=1763802001,v1=");
        assertThat(t).isEqualTo("1763802001");
        assertThat(v1).containsExactly(stripeSignature("whsec_new", 1_763_802_001L, PAYLOAD),
                stripeSignature("whsec_old", 1_763_802_001L, PAYLOAD),
                stripeSignature("whsec_older", 1_763_802_001L, PAYLOAD));
        assertThat(v0).isEqualTo(stripeSignature("whsec_v0", 1_763_802_001L, PAYLOAD));
        assertThat(StripeSigner.header("whsec_new", 1_763_802_001L, PAYLOAD, List.of(), null))
                .isEqualTo(StripeSigner.header("whsec_new", 1_763_802_001L, PAYLOAD));
    }

    @Test
    void signatureCoversEveryByteOfThePayloadAndTheTimestamp() {
        String base = StripeSigner.signature("whsec_x", 100, PAYLOAD);
        byte[] reformatted = "{\"id\": \"evt_test\",\"object\":\"event\"}".getBytes(StandardCharsets.UTF_8);

        assertThat(StripeSigner.signature("whsec_x", 100, reformatted)).isNotEqualTo(base);
        assertThat(StripeSigner.signature("whsec_x", 101, PAYLOAD)).isNotEqualTo(base);
        assertThat(StripeSigner.signature("whsec_y", 100, PAYLOAD)).isNotEqualTo(base);
        assertThat(base).matches("[0-9a-f]{64}");
    }

    @Test
    void refusesAnEmptySecret() {
        assertThatThrownBy(() -> StripeSigner.header("", 1, PAYLOAD)).isInstanceOf(IllegalArgumentException.class);
    }

    /** Stripe's v1 scheme computed without javax.crypto: hex HMAC-SHA256 over {@code "<t>.<payload>"}. */
    static String stripeSignature(String secret, long timestamp, byte[] payload) {
        byte[] prefix = (timestamp + ".").getBytes(StandardCharsets.US_ASCII);
        byte[] message = new byte[prefix.length + payload.length];
        System.arraycopy(prefix, 0, message, 0, prefix.length);
        System.arraycopy(payload, 0, message, prefix.length, payload.length);
        return hmacSha256(secret.getBytes(StandardCharsets.UTF_8), message);
    }

    /** HMAC per RFC 2104 on top of plain SHA-256. */
    static String hmacSha256(byte[] key, byte[] message) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] block = new byte[64];
            byte[] k = key.length > block.length ? sha.digest(key) : key;
            System.arraycopy(k, 0, block, 0, k.length);
            byte[] inner = new byte[64];
            byte[] outer = new byte[64];
            for (int i = 0; i < 64; i++) {
                inner[i] = (byte) (block[i] ^ 0x36);
                outer[i] = (byte) (block[i] ^ 0x5c);
            }
            sha.update(inner);
            byte[] innerHash = sha.digest(message);
            sha.update(outer);
            return HexFormat.of().formatHex(sha.digest(innerHash));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
