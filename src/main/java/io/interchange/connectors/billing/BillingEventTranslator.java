package io.interchange.connectors.billing;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.interchange.connectors.http.WebhookRejection;
import io.interchange.mapping.Mapping;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingException;
import io.interchange.mapping.MappingSource;
import io.interchange.model.CanonicalType;
import io.interchange.model.CustomerRef;
import io.interchange.model.Envelope;
import io.interchange.model.Invoice;
import io.interchange.model.Payment;
import io.interchange.model.Refund;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Translates a verified Stripe event into a canonical event: parses the JSON strictly, picks the mapping for the
 * event type from {@code mappings/stripe/events.csv}, maps, and checks the result. Every refusal is a 400 (413 for an
 * event too large to publish) that says what to fix.
 */
public final class BillingEventTranslator {

    public static final String SOURCE = "/billing/stripe";

    /** Largest canonical event published, so the Kafka record (value, key, headers) stays under the producer's 1 MiB. */
    static final int MAX_CANONICAL_BYTES = 512 * 1024;
    /** Event ids become idempotency keys, Kafka headers and store columns (at most 200 characters there). */
    static final Pattern EVENT_ID = Pattern.compile("[A-Za-z0-9_.:\\-]{1,200}");
    static final int MAX_LEGAL_ENTITY_LENGTH = 50;
    /** {@code created}: seconds since the epoch, from 2000-01-01 to 9999-12-31. */
    static final long MIN_CREATED = 946_684_800L;
    static final long MAX_CREATED = 253_402_300_799L;

    /**
     * Bounded, unambiguous parsing: webhook bodies are small and flat; deep nesting is hostile, and a key given twice
     * would mean whatever the parser picks.
     */
    static final ObjectMapper JSON = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64)
                            .maxStringLength(1_000_000).maxNumberLength(40).build()).build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    private record Route(String mapping, CanonicalType type) {
    }

    /** A translated event: the envelope, the canonical object and its JSON. */
    public record Translated(Envelope envelope, Object canonical, byte[] json, String sourceEventId) {
    }

    private final MappingEngine mappings;
    private final Map<String, Route> routes;

    public BillingEventTranslator(MappingEngine mappings, MappingSource source) {
        this.mappings = mappings;
        this.routes = readRoutes(source.read("stripe/events.csv"));
        routes.values().forEach(r -> mappings.get(r.mapping)); // fail at start-up on a missing mapping
    }

    /** Parses the raw body; 400 if it is not a Stripe event. Returns the event's id and type. */
    public JsonNode parse(byte[] body) {
        String text;
        try {
            // JSON between systems is UTF-8 (RFC 8259); decoded strictly so that no other encoding is guessed and no
            // malformed sequence is silently replaced
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            throw new WebhookRejection(400, "body is not valid UTF-8 (" + e.getMessage() + "); send the event as UTF-8 JSON");
        }
        if (text.startsWith("\uFEFF")) {
            throw new WebhookRejection(400, "body starts with a byte order mark; send the event as UTF-8 JSON without one");
        }
        JsonNode event;
        try {
            event = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new WebhookRejection(400, "malformed JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr()));
        } catch (Exception e) {
            throw new WebhookRejection(400, "unreadable body: " + e.getMessage());
        }
        if (event == null || !event.isObject()) {
            throw new WebhookRejection(400, "body must be a JSON object (a Stripe event)");
        }
        if (!event.path("id").isTextual() || event.path("id").asText().isBlank()) {
            throw new WebhookRejection(400, "missing required field id (the event id)");
        }
        if (!EVENT_ID.matcher(event.path("id").asText()).matches()) {
            throw new WebhookRejection(400, "event id '" + abbreviate(printable(event.path("id").asText()))
                    + "' is not an event id: 1 to 200 letters, digits, '_', '-', '.' or ':'");
        }
        if (!event.path("type").isTextual()) {
            throw new WebhookRejection(400, "missing required field type (the event type)");
        }
        if (!routes.containsKey(event.path("type").asText())) {
            throw new WebhookRejection(400, "event type '" + abbreviate(printable(event.path("type").asText()))
                    + "' is not handled by this endpoint; handled types: " + String.join(", ", routes.keySet()));
        }
        return event;
    }

    /**
     * Maps a parsed event to its canonical form; 400 naming the field when the event lacks what the mapping needs or
     * gives it something that is not a valid canonical value, 413 when the canonical event is too large to publish.
     * An unknown (but well-formed) legal entity is not refused here: it is a routing decision, dead-lettered later.
     */
    public Translated translate(JsonNode event, String correlationId) {
        String id = event.path("id").asText();
        Route route = routes.get(event.path("type").asText());
        JsonNode entityNode = event.path("data").path("object").path("metadata").path("legal_entity");
        String legalEntity = entityNode.isTextual() ? entityNode.asText() : "";
        if (legalEntity.isBlank()) {
            throw new WebhookRejection(400, "event " + id + ": missing required field data.object.metadata.legal_entity"
                    + (entityNode.isMissingNode() || entityNode.isNull() || entityNode.isTextual() ? "" : " (a string)"));
        }
        if (legalEntity.length() > MAX_LEGAL_ENTITY_LENGTH || CanonicalChecks.hasControl(legalEntity)) {
            throw new WebhookRejection(400, "event " + id + ": data.object.metadata.legal_entity '"
                    + abbreviate(printable(legalEntity)) + "' is not a legal entity: at most " + MAX_LEGAL_ENTITY_LENGTH
                    + " characters, no control characters");
        }
        JsonNode createdNode = event.path("created");
        if (createdNode.isMissingNode() || createdNode.isNull()) {
            throw new WebhookRejection(400, "event " + id + ": missing required field created");
        }
        if (!createdNode.isIntegralNumber() || !createdNode.canConvertToLong()
                || createdNode.asLong() < MIN_CREATED || createdNode.asLong() > MAX_CREATED) {
            throw new WebhookRejection(400, "event " + id + ": created " + abbreviate(createdNode.toString())
                    + " is not a Unix timestamp (whole seconds) between 2000-01-01 and 9999-12-31");
        }
        Mapping mapping = mappings.get(route.mapping);
        Object canonical;
        try {
            canonical = mapping.apply(event, route.type.dataClass(), id);
        } catch (MappingException e) {
            throw new WebhookRejection(400, "event " + id + ": " + e.reason());
        }
        String problem = CanonicalChecks.problem(canonical);
        if (problem != null) {
            throw new WebhookRejection(400, "event " + id + ": " + problem);
        }
        if (canonical instanceof Invoice inv && inv.inconsistency() != null) {
            throw new WebhookRejection(400, "event " + id + ": invoice " + inv.invoiceId()
                    + " does not add up: " + inv.inconsistency());
        }
        Envelope envelope = new Envelope(id, SOURCE, route.type.ceType(), customer(canonical).globalId(),
                Instant.ofEpochSecond(createdNode.asLong()).toString(), route.type.dataSchema(), correlationId, legalEntity);
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(canonical);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        if (json.length > MAX_CANONICAL_BYTES) {
            throw new WebhookRejection(413, "event " + id + " is too large: its canonical " + route.type.name()
                    .toLowerCase() + " would be " + json.length + " bytes, more than " + MAX_CANONICAL_BYTES);
        }
        return new Translated(envelope, canonical, json, id);
    }

    private static CustomerRef customer(Object canonical) {
        if (canonical instanceof Invoice i) return i.customer();
        if (canonical instanceof Payment p) return p.customer();
        if (canonical instanceof Refund r) return r.customer();
        throw new IllegalStateException("No customer on " + canonical.getClass());
    }

    private static Map<String, Route> readRoutes(String csv) {
        Map<String, Route> out = new LinkedHashMap<>();
        for (String line : csv.split("\\R")) {
            line = line.strip();
            if (line.isEmpty() || line.startsWith("#") || line.startsWith("stripe_type,")) continue;
            String[] f = line.split(",");
            if (f.length != 3) {
                throw new IllegalArgumentException("mappings/stripe/events.csv: bad line '" + line + "'");
            }
            out.put(f[0].strip(), new Route(f[1].strip(), CanonicalType.valueOf(f[2].strip())));
        }
        return Collections.unmodifiableMap(out);
    }

    private static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "…" : s;
    }

    /** Control and format characters shown as {@code \\uXXXX}, so a reason never carries them into logs or answers. */
    static String printable(String s) {
        StringBuilder sb = new StringBuilder(Math.min(s.length(), 200));
        for (int i = 0; i < s.length() && sb.length() < 200; i++) {
            char c = s.charAt(i);
            if (CanonicalChecks.isControl(c)) sb.append(String.format("\\u%04x", (int) c));
            else sb.append(c);
        }
        return sb.toString();
    }
}
