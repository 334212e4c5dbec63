package io.interchange.connectors.billing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.interchange.connectors.http.WebhookRejection;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingException;
import io.interchange.mapping.MappingSource;
import io.interchange.model.CanonicalType;
import io.interchange.model.CustomerRef;
import io.interchange.model.Envelope;
import io.interchange.model.Invoice;
import io.interchange.model.Payment;
import io.interchange.model.Refund;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Translates a verified Stripe event into a canonical event: parses the JSON strictly, picks the mapping for the
 * event type from {@code mappings/stripe/events.csv}, maps, and checks the result. Every refusal is a 400 that says
 * what to fix.
 */
public final class BillingEventTranslator {

    public static final String SOURCE = "/billing/stripe";

    /** Bounded parsing: webhook bodies are small and flat; deep nesting is hostile. */
    static final ObjectMapper JSON = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64)
                            .maxStringLength(1_000_000).maxNumberLength(40).build()).build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
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
        JsonNode event;
        try {
            event = JSON.readTree(body);
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
        if (!event.path("type").isTextual()) {
            throw new WebhookRejection(400, "missing required field type (the event type)");
        }
        if (!routes.containsKey(event.path("type").asText())) {
            throw new WebhookRejection(400, "event type '" + abbreviate(event.path("type").asText())
                    + "' is not handled by this endpoint; handled types: " + String.join(", ", routes.keySet()));
        }
        return event;
    }

    /** Maps a parsed event to its canonical form; 400 naming the field when the event lacks what the mapping needs. */
    public Translated translate(JsonNode event, String correlationId) {
        String id = event.path("id").asText();
        Route route = routes.get(event.path("type").asText());
        Object canonical;
        try {
            canonical = mappings.get(route.mapping).apply(event, route.type.dataClass(), id);
        } catch (MappingException e) {
            throw new WebhookRejection(400, "event " + abbreviate(id) + ": " + e.reason());
        }
        if (canonical instanceof Invoice inv && inv.inconsistency() != null) {
            throw new WebhookRejection(400, "event " + abbreviate(id) + ": invoice " + inv.invoiceId()
                    + " does not add up: " + inv.inconsistency());
        }
        String legalEntity = event.path("data").path("object").path("metadata").path("legal_entity").asText("");
        if (legalEntity.isBlank()) {
            throw new WebhookRejection(400, "event " + abbreviate(id)
                    + ": missing required field data.object.metadata.legal_entity");
        }
        long created = event.path("created").asLong(0);
        if (created <= 0) {
            throw new WebhookRejection(400, "event " + abbreviate(id) + ": missing required field created");
        }
        Envelope envelope = new Envelope(id, SOURCE, route.type.ceType(), customer(canonical).globalId(),
                Instant.ofEpochSecond(created).toString(), route.type.dataSchema(), correlationId, legalEntity);
        try {
            return new Translated(envelope, canonical, JSON.writeValueAsBytes(canonical), id);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
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
}
