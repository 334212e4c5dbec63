package io.interchange.connectors.crm;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.connectors.http.WebhookRejection;
import io.interchange.connectors.webhook.InboundEvent;
import io.interchange.connectors.webhook.ParkedEvents;
import io.interchange.connectors.webhook.SignatureVerifier;
import io.interchange.connectors.webhook.WebhookJson;
import io.interchange.connectors.webhook.WebhookSource;
import io.interchange.mapping.CsvTable;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingException;
import io.interchange.mapping.MappingSource;
import io.interchange.model.CanonicalType;
import io.interchange.model.CustomerChange;
import io.interchange.model.Envelope;
import io.interchange.reliability.PermanentFailure;
import io.interchange.store.DeadLetterStore;
import io.interchange.store.IdempotencyStore;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * HubSpot's webhooks as a source of the webhook edge: {@code POST /webhooks/hubspot}, verified by
 * {@link HubSpotSignatureVerifier}, a body that is a JSON array of events (HubSpot batches up to 100, in no
 * particular order, and may send one more than once). Each event of a subscription type {@code mappings/hubspot/events.csv}
 * handles becomes a canonical {@link CustomerChange} through {@code mappings/hubspot/customer-change.jslt}; types it
 * lists without effect, and types it does not list, are acknowledged without effect (HubSpot sends only what the app
 * subscribes to). A body that is not a batch of events is refused with 400. An element of a signed batch that cannot be
 * read (a field missing or of another type than HubSpot documents, a shape the mapping does not take) is parked with
 * its reason as a dead letter of {@link #EVENT_ROUTE_ID} and acknowledged, while the batch's other events are
 * published: HubSpot retries a refused batch whole, and would drop all of it in the end.
 *
 * <p>Idempotency: HubSpot documents {@code eventId} as "not guaranteed to be unique", while a retried notification
 * repeats all of its fields but {@code attemptNumber}. The key is therefore the event id within its account,
 * subscription and record: {@code crm:hubspot:<portalId>:<subscriptionId>:<eventId>:<objectId>}, so a retry is
 * recognised and two notifications that happen to share an event id are both published.
 */
public final class HubSpotWebhook implements WebhookSource {

    public static final String ROUTE_ID = "crm.hubspot-webhook";
    /** The single-event route through which a parked HubSpot event is replayed. */
    public static final String EVENT_ROUTE_ID = "crm.hubspot-event";
    public static final String PATH = "/webhooks/hubspot";
    public static final String SOURCE = "/crm/hubspot";
    public static final String MAPPING = "hubspot/customer-change";
    public static final String ACKNOWLEDGED_METRIC = "micrometer:counter:interchange.hubspot.events.acknowledged";
    /** occurredAt: milliseconds since the epoch, from 2000-01-01 to 9999-12-31. */
    static final long MIN_OCCURRED = 946_684_800_000L;
    static final long MAX_OCCURRED = 253_402_300_799_999L;
    /** occurredAt as ISO-8601 in UTC, always with its milliseconds (Instant.toString() drops zero ones). */
    private static final DateTimeFormatter MILLIS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);
    private static final String[] REQUIRED_IDS = {"eventId", "subscriptionId", "portalId", "objectId"};
    private static final String[] OPTIONAL_TEXT = {"propertyName", "propertyValue", "changeSource", "sourceId",
            "changeFlag"};
    private static final String[] OPTIONAL_INTEGER = {"appId", "attemptNumber", "primaryObjectId", "newObjectId",
            "numberOfPropertiesMoved"};

    private final HubSpotSignatureVerifier verifier;
    private final MappingEngine mappings;
    private final ParkedEvents parkedEvents;
    /** subscription type -> canonical type; null value: acknowledged without effect. */
    private final Map<String, CanonicalType> types;

    public HubSpotWebhook(HubSpotSignatureVerifier verifier, MappingEngine mappings, MappingSource source,
                          IdempotencyStore idempotency, DeadLetterStore deadLetters) {
        this.verifier = verifier;
        this.mappings = mappings;
        this.parkedEvents = new ParkedEvents(idempotency, deadLetters, EVENT_ROUTE_ID, "HubSpot event",
                PermanentFailure.class);
        this.types = readTypes(source);
        mappings.get(MAPPING); // fail at start-up on a missing mapping
    }

    @Override
    public String system() {
        return "hubspot";
    }

    @Override
    public String routeId() {
        return ROUTE_ID;
    }

    @Override
    public String path() {
        return PATH;
    }

    @Override
    public String steps() {
        return "crm.hubspot";
    }

    @Override
    public String publishStep() {
        return "kafka.publish-customer-change";
    }

    @Override
    public String acknowledgedMetric() {
        return ACKNOWLEDGED_METRIC;
    }

    @Override
    public String expected() {
        return "a JSON array of HubSpot events";
    }

    @Override
    public String label() {
        return "HubSpot event";
    }

    @Override
    public boolean batch() {
        return true;
    }

    @Override
    public SignatureVerifier verifier() {
        return verifier;
    }

    /** The idempotency key of one HubSpot event. */
    public static String ingestKey(String portalId, String subscriptionId, String eventId, String objectId) {
        return "crm:hubspot:" + portalId + ":" + subscriptionId + ":" + eventId + ":" + objectId;
    }

    @Override
    public List<InboundEvent> read(byte[] body, String correlationId) {
        JsonNode batch = WebhookJson.parse(body);
        if (!batch.isArray()) {
            throw new WebhookRejection(400, "body must be a JSON array of HubSpot events, not a " + kind(batch));
        }
        if (batch.isEmpty()) {
            throw new WebhookRejection(400, "body is an empty array: expected at least one HubSpot event");
        }
        List<InboundEvent> events = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            JsonNode e = batch.get(i);
            try {
                events.add(read(i, e, correlationId));
            } catch (WebhookRejection unreadable) {
                // the batch is signed by HubSpot: the others are genuine and must not be refused with this one
                events.add(parked(i, e, unreadable.getMessage()));
            }
        }
        return events;
    }

    /**
     * An element of a signed batch that this runtime cannot read (a field of another type than HubSpot documents, a
     * value out of range, a shape the mapping does not take), kept for an operator with its own JSON and the reason.
     * Its key is the event's own where its ids can be read, else one of its content, so a redelivered batch does not
     * park it twice.
     */
    private InboundEvent parked(int index, JsonNode e, String reason) {
        byte[] payload = WebhookJson.bytes(e);
        boolean identified = true;
        for (String field : REQUIRED_IDS) identified &= readableId(e.path(field));
        String key = identified
                ? ingestKey(text(e, "portalId"), text(e, "subscriptionId"), text(e, "eventId"), text(e, "objectId"))
                : "crm:hubspot:unidentified:" + WebhookJson.sha256Hex(payload);
        String id = readableId(e.path("eventId")) ? text(e, "eventId") : "[" + index + "]";
        JsonNode type = e.hasNonNull("subscriptionType") ? e.get("subscriptionType") : e.path("eventType");
        return InboundEvent.parked(id, key, type.isTextual() ? type.asText() : null,
                reason + "; kept as it came, to be replayed through " + EVENT_ROUTE_ID + " once it can be read", payload);
    }

    /**
     * One HubSpot event as it was parked, read again on replay through {@link #EVENT_ROUTE_ID}: to publish, or
     * acknowledged without effect; what still cannot be read fails permanently with the reason (parked again).
     */
    @Override
    public InboundEvent readOne(byte[] event, String correlationId) {
        try {
            return read(0, WebhookJson.parse(event), correlationId);
        } catch (WebhookRejection unreadable) {
            throw new PermanentFailure(unreadable.getMessage());
        }
    }

    @Override
    public Long park(InboundEvent event, byte[] body, String correlationId) {
        return parkedEvents.park(event, body, correlationId);
    }

    @Override
    public String eventRouteId() {
        return EVENT_ROUTE_ID;
    }

    private InboundEvent read(int index, JsonNode e, String correlationId) {
        if (!e.isObject()) {
            throw new WebhookRejection(400, "event [" + index + "] is a " + kind(e) + ", not a HubSpot event (an object)");
        }
        String eventId = id(index, e, "eventId");
        String where = "event [" + index + "] (eventId " + eventId + ")";
        for (String field : REQUIRED_IDS) id(index, e, field);
        JsonNode occurred = e.path("occurredAt");
        if (!occurred.isIntegralNumber() || !occurred.canConvertToLong() || occurred.asLong() < MIN_OCCURRED
                || occurred.asLong() > MAX_OCCURRED) {
            throw new WebhookRejection(400, where + ": occurredAt " + (occurred.isMissingNode() ? "is missing"
                    : WebhookJson.printable(occurred.toString()) + " is not milliseconds since the epoch between "
                    + "2000-01-01 and 9999-12-31"));
        }
        JsonNode typeNode = e.hasNonNull("subscriptionType") ? e.get("subscriptionType") : e.path("eventType");
        if (!typeNode.isTextual() || typeNode.asText().isBlank()) {
            throw new WebhookRejection(400, where + ": missing required field subscriptionType (the event's type)");
        }
        for (String field : OPTIONAL_TEXT) {
            if (e.hasNonNull(field) && !e.get(field).isTextual()) {
                throw new WebhookRejection(400, where + ": " + field + " is not a string");
            }
        }
        for (String field : OPTIONAL_INTEGER) {
            if (e.hasNonNull(field) && !e.get(field).isIntegralNumber()) {
                throw new WebhookRejection(400, where + ": " + field + " is not an integer");
            }
        }
        if (e.hasNonNull("mergedObjectIds")) {
            JsonNode merged = e.get("mergedObjectIds");
            boolean ids = merged.isArray();
            for (JsonNode m : merged) ids &= m.isIntegralNumber();
            if (!ids) throw new WebhookRejection(400, where + ": mergedObjectIds is not an array of integers");
        }
        String type = typeNode.asText();
        String key = ingestKey(text(e, "portalId"), text(e, "subscriptionId"), eventId, text(e, "objectId"));
        if (!types.containsKey(type)) {
            return InboundEvent.ignored(eventId, key, type, "subscription type " + WebhookJson.printable(type)
                    + " is not handled by this runtime (mappings/hubspot/events.csv); handled: " + handled());
        }
        CanonicalType canonicalType = types.get(type);
        if (canonicalType == null) {
            return InboundEvent.ignored(eventId, key, type, "subscription type " + type
                    + " has no effect here (mappings/hubspot/events.csv)");
        }
        String occurredAt = MILLIS.format(Instant.ofEpochMilli(occurred.asLong()));
        ObjectNode input = WebhookJson.JSON.createObjectNode();
        input.set("event", e);
        input.put("occurredAt", occurredAt);
        CustomerChange change;
        try {
            change = mappings.get(MAPPING).apply(input, CustomerChange.class, where);
        } catch (MappingException ex) {
            // the fields a mapping needs are checked above: what remains is a shape the mapping does not take yet
            throw new WebhookRejection(400, where + ": " + ex.reason());
        }
        Envelope envelope = new Envelope(key.substring("crm:".length()), SOURCE, canonicalType.ceType(),
                change.customer().globalId(), occurredAt, canonicalType.dataSchema(), correlationId, null, null, null);
        byte[] json;
        try {
            json = WebhookJson.JSON.writeValueAsBytes(change);
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException(ex);
        }
        return InboundEvent.publish(eventId, key, type, envelope, json,
                "(" + change.objectType() + " " + change.objectId() + " " + change.change() + ")");
    }

    /** A required id: a whole JSON number, as HubSpot sends its ids. */
    private static String id(int index, JsonNode e, String field) {
        JsonNode v = e.path(field);
        if (v.isMissingNode() || v.isNull()) {
            throw new WebhookRejection(400, "event [" + index + "]: missing required field " + field);
        }
        if (!readableId(v)) {
            throw new WebhookRejection(400, "event [" + index + "]: " + field + " " + WebhookJson.printable(v.toString())
                    + " is not an id (a whole, non-negative number)");
        }
        return v.bigIntegerValue().toString();
    }

    private static boolean readableId(JsonNode v) {
        return v.isIntegralNumber() && v.bigIntegerValue().signum() >= 0 && v.bigIntegerValue().bitLength() <= 63;
    }

    private static String text(JsonNode e, String field) {
        return e.get(field).bigIntegerValue().toString();
    }

    private static String kind(JsonNode n) {
        return n.getNodeType().name().toLowerCase();
    }

    private String handled() {
        List<String> out = new ArrayList<>();
        types.forEach((t, c) -> {
            if (c != null) out.add(t);
        });
        return String.join(", ", out);
    }

    /** The type as a metric tag: a HubSpot subscription type's shape ({@code contact.propertyChange}), else other. */
    @Override
    public String metricType(String type) {
        return type != null && type.length() <= 60 && type.matches("[a-z_]+\\.[A-Za-z]+") ? type : "other";
    }

    private static Map<String, CanonicalType> readTypes(MappingSource source) {
        Map<String, CanonicalType> out = new LinkedHashMap<>();
        for (CsvTable.Row row : CsvTable.read(source, "hubspot/events.csv", "subscription_type", "canonical_type")) {
            String name = row.get("canonical_type");
            CanonicalType type;
            try {
                type = name.equals("NONE") ? null : CanonicalType.valueOf(name);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("mappings/hubspot/events.csv line " + row.line()
                        + ": unknown canonical type " + name);
            }
            if (type != null && type.dataClass() != CustomerChange.class) {
                throw new IllegalArgumentException("mappings/hubspot/events.csv line " + row.line() + ": " + name
                        + " does not carry a customer change");
            }
            if (out.containsKey(row.get("subscription_type"))) {
                throw new IllegalArgumentException("mappings/hubspot/events.csv line " + row.line() + ": type "
                        + row.get("subscription_type") + " listed twice");
            }
            out.put(row.get("subscription_type"), type);
        }
        return Collections.unmodifiableMap(out);
    }
}
