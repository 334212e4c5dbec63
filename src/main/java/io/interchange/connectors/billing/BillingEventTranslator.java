package io.interchange.connectors.billing;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.config.ConfigurationException;
import io.interchange.connectors.http.WebhookRejection;
import io.interchange.mapping.CsvTable;
import io.interchange.mapping.LegalEntityTable;
import io.interchange.mapping.Mapping;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingException;
import io.interchange.mapping.MappingSource;
import io.interchange.model.CanonicalType;
import io.interchange.model.CreditMemo;
import io.interchange.model.CustomerRef;
import io.interchange.model.Dispute;
import io.interchange.model.Envelope;
import io.interchange.model.Invoice;
import io.interchange.model.Payment;
import io.interchange.model.Refund;
import io.interchange.reliability.PermanentFailure;
import io.interchange.store.BillingReferences;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Translates a verified Stripe event into a canonical event. What the sender got wrong is refused with a 4xx that says
 * what to fix: a body that is not a Stripe event, or a field of another type than Stripe's spec declares
 * ({@code mappings/stripe/field-types.csv}). A genuine event this runtime cannot process is parked with its reason
 * ({@link ParkedEvent}): a type {@code mappings/stripe/events.csv} does not handle, an API version
 * {@code mappings/stripe/api-versions.csv} does not know, the wrong mode, no legal entity, a mapping gap, totals that do
 * not reconcile. Types listed without effect are {@linkplain #ignored ignored}.
 *
 * <p>The steps of a translation: the event's API version picks the normaliser that brings it to one intermediate
 * shape; the legal-entity chain ({@code mappings/stripe/legal-entity-chain.csv}) finds its entity; the type's mapping
 * gives the canonical object, which is checked before it is published.
 */
public final class BillingEventTranslator {

    public static final String SOURCE = "/billing/stripe";

    /** Largest canonical event published, so the Kafka record (value, key, headers) stays under the producer's 1 MiB. */
    static final int MAX_CANONICAL_BYTES = 512 * 1024;
    /** Event ids become idempotency keys, Kafka headers and store columns (at most 200 characters there). */
    static final Pattern EVENT_ID = Pattern.compile("[A-Za-z0-9_.:\\-]{1,200}");
    static final int MAX_LEGAL_ENTITY_LENGTH = 50;
    /**
     * True when the body is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF, as
     * the strict decoder takes it) without a byte order mark or NUL bytes; checked without decoding anything.
     */
    static boolean plainUtf8(byte[] b) {
        int n = b.length;
        if (n >= 3 && (b[0] & 0xFF) == 0xEF && (b[1] & 0xFF) == 0xBB && (b[2] & 0xFF) == 0xBF) return false;
        int i = 0;
        while (i < n) {
            int c = b[i] & 0xFF;
            if (c >= 0x01 && c <= 0x7F) {
                i++;
                continue;
            }
            int more;
            int lo = 0x80;
            int hi = 0xBF;
            if (c >= 0xC2 && c <= 0xDF) {
                more = 1;
            } else if (c >= 0xE0 && c <= 0xEF) {
                more = 2;
                if (c == 0xE0) lo = 0xA0;
                if (c == 0xED) hi = 0x9F;
            } else if (c >= 0xF0 && c <= 0xF4) {
                more = 3;
                if (c == 0xF0) lo = 0x90;
                if (c == 0xF4) hi = 0x8F;
            } else {
                return false; // NUL, a continuation byte first, C0, C1, F5..FF
            }
            if (i + more >= n) return false; // truncated at the end
            int second = b[i + 1] & 0xFF;
            if (second < lo || second > hi) return false;
            for (int k = 2; k <= more; k++) {
                int next = b[i + k] & 0xFF;
                if (next < 0x80 || next > 0xBF) return false;
            }
            i += more + 1;
        }
        return true;
    }

    /**
     * The body as text: JSON between systems is UTF-8 (RFC 8259), decoded strictly so that no other encoding is guessed
     * and no malformed sequence is silently replaced; a byte order mark is refused.
     */
    private static String strictUtf8(byte[] body) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            throw new WebhookRejection(400, "body is not valid UTF-8 (" + e.getMessage() + "); send the event as UTF-8 JSON");
        }
        if (text.startsWith("\uFEFF")) {
            throw new WebhookRejection(400, "body starts with a byte order mark; send the event as UTF-8 JSON without one");
        }
        return text;
    }

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

    /** Which events of which mode this instance takes: {@code true} (live only), {@code false} (test only) or any. */
    public enum Livemode {
        TRUE, FALSE, ANY;

        public static Livemode parse(String value) {
            return switch (value.strip().toLowerCase()) {
                case "true" -> TRUE;
                case "false" -> FALSE;
                case "any" -> ANY;
                default -> throw new ConfigurationException("interchange.billing.livemode must be true, false or any, not '"
                        + value + "'");
            };
        }

        boolean accepts(boolean live) {
            return this == ANY || (this == TRUE) == live;
        }
    }

    /** A line of events.csv; {@code type} null means acknowledged without effect. */
    private record Route(String object, String mapping, CanonicalType type) {
    }

    /** Where events.csv is looked up: a type for one shape, or for every shape ({@code *}). */
    private static String routeKey(String type, String shape) {
        return type + "|" + shape;
    }

    /** The line of events.csv for this type in this shape (or for every shape), or null. */
    private Route route(String type, String shape) {
        Route r = shape == null ? null : routes.get(routeKey(type, shape));
        return r != null ? r : routes.get(routeKey(type, "*"));
    }

    /** A translated event: the envelope, the canonical object and its JSON. */
    public record Translated(Envelope envelope, Object canonical, byte[] json, String sourceEventId) {
    }

    private final MappingEngine mappings;
    private final Map<String, Route> routes;
    private final StripeFieldTypes fieldTypes;
    private final StripeApiVersions versions;
    private final LegalEntityChain entityChain;
    private final BillingReferences references;
    private final Livemode livemode;
    private final StripeApi api;
    private final LegalEntityTable entities;

    /**
     * @param references    where the legal entity, customer and invoice of published invoices and payments are kept
     *                      (their payments and refunds find theirs there); null where no store is at hand (benchmarks
     *                      of the translation alone)
     * @param livemode      which mode's events this instance takes
     * @param pinnedVersion the API version of events that carry none (the endpoint's pinned version), or blank
     * @param api           the billing platform's REST API, read where an event is not enough; null where there is
     *                      none (events that need it are then parked)
     */
    public BillingEventTranslator(MappingEngine mappings, MappingSource source, BillingReferences references,
                                  Livemode livemode, String pinnedVersion, StripeApi api) {
        this.mappings = mappings;
        this.routes = readRoutes(source);
        this.fieldTypes = new StripeFieldTypes(source);
        this.versions = new StripeApiVersions(source, pinnedVersion);
        this.entityChain = new LegalEntityChain(source, references, api);
        this.entities = LegalEntityTable.load(source);
        this.references = references;
        this.livemode = livemode;
        this.api = api;
        // fail at start-up on a missing mapping
        routes.values().forEach(r -> {
            if (r.mapping != null) mappings.get(r.mapping);
        });
        versions.normalisers().forEach(mappings::get);
    }

    /**
     * Parses the raw body; 400 if it is not a Stripe event: not UTF-8 JSON, or without the id, type, created and
     * data.object every Stripe event has.
     */
    public JsonNode parse(byte[] body) {
        JsonNode event;
        try {
            // the usual body is well-formed UTF-8 without a byte order mark or NUL bytes: read as bytes, Jackson can
            // take it for nothing but UTF-8 (it guesses UTF-16 or UTF-32 only from a byte order mark or zero bytes),
            // and nothing is decoded twice; any other body is decoded strictly first, which says what is wrong
            event = plainUtf8(body) ? JSON.readTree(body) : JSON.readTree(strictUtf8(body));
        } catch (JsonProcessingException e) {
            throw new WebhookRejection(400, "malformed JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr()));
        } catch (WebhookRejection e) {
            throw e;
        } catch (Exception e) {
            throw new WebhookRejection(400, "unreadable body: " + e.getMessage());
        }
        if (event == null || !event.isObject()) {
            throw new WebhookRejection(400, "body must be a JSON object (a Stripe event)");
        }
        if (!event.path("id").isTextual() || event.path("id").asText().isBlank()) {
            throw new WebhookRejection(400, "missing required field id (the event id)");
        }
        String id = event.path("id").asText();
        if (!EVENT_ID.matcher(id).matches()) {
            throw new WebhookRejection(400, "event id '" + abbreviate(printable(id))
                    + "' is not an event id: 1 to 200 letters, digits, '_', '-', '.' or ':'");
        }
        if (!event.path("type").isTextual() || event.path("type").asText().isBlank()) {
            throw new WebhookRejection(400, "missing required field type (the event type)");
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
        JsonNode object = event.path("data").path("object");
        if (!object.isObject() || object.isEmpty()) {
            throw new WebhookRejection(400, "event " + id + ": missing required field data.object (the event's object)");
        }
        if (event.has("livemode") && !event.get("livemode").isBoolean()) {
            throw new WebhookRejection(400, "event " + id + ": livemode is not a boolean");
        }
        if (event.hasNonNull("api_version") && !event.get("api_version").isTextual()) {
            throw new WebhookRejection(400, "event " + id + ": api_version is not a string");
        }
        return event;
    }

    /** The shape ({@code mappings/stripe/api-versions.csv}) of objects rendered in an API version, or null if unknown. */
    public String shape(String apiVersion) {
        StripeApiVersions.Version version = versions.find(apiVersion);
        return version == null ? null : version.shape();
    }

    /** True when the event's type is acknowledged without effect (listed in events.csv with no mapping). */
    public boolean ignored(JsonNode event) {
        StripeApiVersions.Version version = versions.find(event.path("api_version").asText(null));
        Route route = route(event.path("type").asText(), version == null ? null : version.shape());
        return route != null && route.type == null;
    }

    /**
     * Maps a parsed event to its canonical form. 400 naming the field when the event breaks Stripe's declared types or
     * gives a value no Stripe event has, 413 when the canonical event is too large to publish; {@link ParkedEvent} when
     * it is a genuine event this runtime cannot process (see the class comment). An unknown (but well-formed) legal
     * entity is not refused here: it is a routing decision, dead-lettered by the ledger.
     */
    public Translated translate(JsonNode event, String correlationId) {
        return translate(event, correlationId, true, null);
    }

    /**
     * Maps an object read from the billing API, wrapped in the event that would have brought it ({@code type}; its id,
     * {@code created} and mode the object's), the way {@link #translate} maps a webhook's event (the same normaliser,
     * legal-entity chain and mapping), but records nothing for later events: reading is not receiving. What it cannot
     * map is thrown as for a webhook's event.
     */
    public Translated translateListed(JsonNode object, String type, String apiVersion) {
        return translateListed(object, type, apiVersion, null);
    }

    /** Where this translator looks up and keeps what was recorded of objects (null: nowhere). */
    public BillingReferences references() {
        return references;
    }

    /**
     * As {@link #translateListed(JsonNode, String, String)}, with what was recorded of objects looked up by
     * {@code references} (e.g. fetched for a whole page at once with {@link BillingReferences#findAll}; null: in the
     * store, one query per object).
     */
    public Translated translateListed(JsonNode object, String type, String apiVersion,
            java.util.function.Function<String, java.util.Optional<BillingReferences.Reference>> references) {
        ObjectNode event = JSON.createObjectNode();
        event.put("id", "listed_" + object.path("id").asText());
        event.put("object", "event");
        event.put("type", type);
        event.put("api_version", apiVersion);
        event.set("created", object.path("created"));
        event.put("livemode", object.path("livemode").asBoolean(true));
        event.putObject("data").set("object", object);
        return translate(event, null, false, references);
    }

    private Translated translate(JsonNode event, String correlationId, boolean record,
            java.util.function.Function<String, java.util.Optional<BillingReferences.Reference>> lookup) {
        String id = event.path("id").asText();
        String type = event.path("type").asText();
        StripeApiVersions.Version version = versions.require(id, event.path("api_version").asText(null));
        Route route = route(type, version.shape());
        if (route == null) {
            throw new ParkedEvent("event " + id + ": event type '" + abbreviate(printable(type)) + "' is not handled by "
                    + "this runtime (mappings/stripe/events.csv); handled: " + handledTypes());
        }
        if (route.type == null) {
            throw new IllegalStateException("event type " + type + " has no effect; callers check ignored() first");
        }
        JsonNode object = event.path("data").path("object");
        String objectName = object.path("object").isTextual() ? object.path("object").asText() : route.object;
        if (!objectName.equals(route.object)) {
            throw new WebhookRejection(400, "event " + id + ": a " + type + " event carries a " + route.object
                    + ", not a " + abbreviate(printable(objectName)));
        }
        event = withAllLines(id, event, version.apiVersion());
        fieldTypes.check(id, route.object, event.path("data").path("object"));
        boolean live = event.path("livemode").asBoolean(true);
        if (!livemode.accepts(live)) {
            throw new ParkedEvent("event " + id + " is a " + (live ? "live-mode" : "test-mode") + " event, and this "
                    + "instance takes " + (livemode == Livemode.TRUE ? "live-mode" : "test-mode")
                    + " events only (interchange.billing.livemode)");
        }
        JsonNode intermediate = map(mappings.get(version.normaliser()), event, id);
        LegalEntityChain.Resolution entity = entityChain.resolve(id, intermediate, version.apiVersion(), lookup);
        ObjectNode input = JSON.createObjectNode();
        input.set("event", intermediate);
        input.put("legalEntity", entity.legalEntity());
        // the entity's documents are dated by its own calendar; an entity the table does not know (the ledger will
        // dead-letter it) by UTC's
        input.put("timeZone", entities.find(entity.legalEntity()).map(e -> e.timeZone().getId()).orElse("UTC"));
        input.put("globalCustomerId", entity.globalCustomerId());
        if (entity.related() != null) input.set("related", JSON.valueToTree(entity.related()));
        Object canonical;
        try {
            canonical = mappings.get(route.mapping).apply(input, route.type.dataClass(), id);
        } catch (MappingException e) {
            throw new ParkedEvent("event " + id + ": " + e.reason());
        }
        String problem = CanonicalChecks.problem(canonical);
        if (problem != null) {
            throw new WebhookRejection(400, "event " + id + ": " + problem);
        }
        if (canonical instanceof Invoice inv && inv.inconsistency() != null) {
            throw new ParkedEvent("event " + id + ": invoice " + inv.invoiceId() + " does not add up: " + inv.inconsistency());
        }
        if (canonical instanceof CreditMemo cm && cm.inconsistency() != null) {
            throw new ParkedEvent("event " + id + ": credit note " + cm.creditNoteId() + " does not add up: "
                    + cm.inconsistency());
        }
        Envelope envelope = new Envelope(id, SOURCE, route.type.ceType(), customer(canonical).globalId(),
                Instant.ofEpochSecond(event.path("created").asLong()).toString(), route.type.dataSchema(), correlationId,
                entity.legalEntity(), entity.rule(), live);
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
        if (references != null && record) {
            List<BillingReferences.Reference> recorded = references(intermediate, canonical, entity.legalEntity());
            // the first record of an object stands: an invoice's later events (paid, payment succeeded) found its
            // record above and write nothing, instead of a transaction of their own that changes nothing
            if (entity.related() != null) recorded.removeIf(r -> r.objectId().equals(entity.related().objectId()));
            if (!recorded.isEmpty()) references.recordAll(recorded);
        }
        return new Translated(envelope, canonical, json, id);
    }

    /**
     * What later events will need to know of this one's objects: an invoice's entity and customer under its id, a
     * payment's under each of its Stripe ids (charge, PaymentIntent), for the InvoicePayments and refunds that name them.
     */
    private static List<BillingReferences.Reference> references(JsonNode intermediate, Object canonical, String entity) {
        List<BillingReferences.Reference> out = new ArrayList<>();
        JsonNode o = intermediate.path("object");
        if (canonical instanceof Invoice i) {
            out.add(new BillingReferences.Reference(i.invoiceId(), entity, i.customer().globalId(), i.customer().systemId(),
                    i.invoiceId(), i.number()));
        } else if (canonical instanceof Payment p && Payment.SUCCEEDED.equals(p.status())) {
            for (String id : new String[]{o.path("payment").asText(null), o.path("charge").asText(null),
                    o.path("paymentIntent").asText(null)}) {
                if (id != null && !id.isBlank()) {
                    out.add(new BillingReferences.Reference(id, entity, p.customer().globalId(), p.customer().systemId(),
                            p.invoiceId(), p.invoiceNumber()));
                }
            }
        }
        return out;
    }

    /**
     * The event with all of its invoice's lines: Stripe embeds "the first handful" and says {@code has_more}; the rest
     * are read from its API, in the event's API version, so the normaliser sees one complete invoice. Without the API
     * the event stays as it is, and the invoice mapping parks it.
     */
    private JsonNode withAllLines(String id, JsonNode event, String apiVersion) {
        JsonNode invoice = event.path("data").path("object");
        JsonNode lines = invoice.path("lines");
        if (!"invoice".equals(invoice.path("object").asText()) || !lines.path("has_more").asBoolean(false)
                || api == null || !api.enabled() || !lines.path("data").isArray()) {
            return event;
        }
        JsonNode embedded = lines.path("data");
        String last = embedded.isEmpty() ? null : embedded.get(embedded.size() - 1).path("id").asText(null);
        List<JsonNode> rest;
        try {
            rest = api.invoiceLines(invoice.path("id").asText(), last, apiVersion);
        } catch (ParkedEvent e) {
            throw e;
        } catch (PermanentFailure e) {
            throw new ParkedEvent("event " + id + ": the rest of invoice " + invoice.path("id").asText()
                    + "'s lines could not be read: " + e.getMessage());
        }
        ObjectNode complete = event.deepCopy();
        ObjectNode completeLines = (ObjectNode) complete.path("data").path("object").path("lines");
        ArrayNode all = completeLines.putArray("data");
        embedded.forEach(all::add);
        rest.forEach(all::add);
        completeLines.put("has_more", false);
        return complete;
    }

    private static JsonNode map(Mapping mapping, JsonNode input, String id) {
        try {
            return mapping.apply(input, id);
        } catch (MappingException e) {
            throw new ParkedEvent("event " + id + ": " + e.reason());
        }
    }

    private String handledTypes() {
        List<String> handled = new ArrayList<>();
        routes.forEach((key, r) -> {
            String t = key.substring(0, key.indexOf('|'));
            if (r.type != null && !handled.contains(t)) handled.add(t);
        });
        return String.join(", ", handled);
    }

    private static CustomerRef customer(Object canonical) {
        if (canonical instanceof Invoice i) return i.customer();
        if (canonical instanceof Payment p) return p.customer();
        if (canonical instanceof Refund r) return r.customer();
        if (canonical instanceof CreditMemo c) return c.customer();
        if (canonical instanceof Dispute d) return d.customer();
        throw new IllegalStateException("No customer on " + canonical.getClass());
    }

    private static Map<String, Route> readRoutes(MappingSource source) {
        Map<String, Route> out = new LinkedHashMap<>();
        for (CsvTable.Row row : CsvTable.read(source, "stripe/events.csv", "stripe_type", "shape", "object", "mapping",
                "canonical_type")) {
            boolean none = row.get("mapping").equals("-");
            if (none != row.get("canonical_type").equals("NONE")) {
                throw new IllegalArgumentException("mappings/stripe/events.csv line " + row.line()
                        + ": mapping '-' goes with canonical_type NONE, and only with it");
            }
            CanonicalType type;
            try {
                type = none ? null : CanonicalType.valueOf(row.get("canonical_type"));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("mappings/stripe/events.csv line " + row.line() + ": unknown canonical type "
                        + row.get("canonical_type"));
            }
            if (out.put(routeKey(row.get("stripe_type"), row.get("shape")),
                    new Route(row.get("object"), none ? null : row.get("mapping"), type)) != null) {
                throw new IllegalArgumentException("mappings/stripe/events.csv line " + row.line() + ": type "
                        + row.get("stripe_type") + " listed twice for shape " + row.get("shape"));
            }
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
