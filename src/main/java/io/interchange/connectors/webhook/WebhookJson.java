package io.interchange.connectors.webhook;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.interchange.connectors.http.WebhookRejection;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Bounded, unambiguous parsing of webhook bodies, the same for every inbound system: strict UTF-8 (no other encoding
 * guessed, no malformed sequence replaced), no byte order mark, nesting at most 64 deep, no key given twice (it would
 * mean whatever the parser picks), nothing after the value. Each refusal is a 400 saying what to fix.
 */
public final class WebhookJson {

    public static final ObjectMapper JSON = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64)
                            .maxStringLength(1_000_000).maxNumberLength(40).build()).build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    private WebhookJson() {
    }

    /** The body as JSON; 400 for anything that is not one well-formed UTF-8 JSON value. */
    public static JsonNode parse(byte[] body) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            throw new WebhookRejection(400, "body is not valid UTF-8 (" + e.getMessage() + "); send the events as UTF-8 JSON");
        }
        if (text.startsWith("\uFEFF")) {
            throw new WebhookRejection(400, "body starts with a byte order mark; send the events as UTF-8 JSON without one");
        }
        try {
            JsonNode node = JSON.readTree(text);
            if (node == null || node.isMissingNode()) throw new WebhookRejection(400, "body holds no JSON value");
            return node;
        } catch (JsonProcessingException e) {
            throw new WebhookRejection(400, "malformed JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr()));
        } catch (WebhookRejection e) {
            throw e;
        } catch (Exception e) {
            throw new WebhookRejection(400, "unreadable body: " + e.getMessage());
        }
    }

    /** A value as compact JSON, e.g. one event of a batch, to be kept on its own. */
    public static byte[] bytes(JsonNode value) {
        try {
            return JSON.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a parsed JSON value could not be written back", e);
        }
    }

    /** The SHA-256 of the bytes, as lower-case hex: a key for content that carries no id of its own. */
    public static String sha256Hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }

    /** Control and format characters shown as {@code \\uXXXX} and the text bounded, for reasons quoting input. */
    public static String printable(String s) {
        StringBuilder sb = new StringBuilder(Math.min(s.length(), 80));
        for (int i = 0; i < s.length() && sb.length() < 80; i++) {
            char c = s.charAt(i);
            if (Character.isISOControl(c) || Character.getType(c) == Character.FORMAT) sb.append(String.format("\\u%04x", (int) c));
            else sb.append(c);
        }
        if (s.length() > 80) sb.append('…');
        return sb.toString();
    }
}
