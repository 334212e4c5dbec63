package io.interchange.connectors.loyalty;

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
import io.interchange.mapping.LegalEntityTable;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingException;
import io.interchange.mapping.MappingSource;
import io.interchange.model.CanonicalType;
import io.interchange.model.Envelope;
import io.interchange.model.LoyaltyTierChange;
import io.interchange.model.LoyaltyTransaction;
import io.interchange.reliability.PermanentFailure;
import io.interchange.store.CustomerFields;
import io.interchange.store.DeadLetterStore;
import io.interchange.store.IdempotencyStore;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The loyalty platform's webhooks (Voucherify's, version v2024-01-01) as a source of the webhook edge:
 * {@code POST /webhooks/loyalty}, verified by {@link VoucherifySignatureVerifier}, one event per request in
 * Voucherify's envelope ({@code id, project_id, created_at, type, data, source, event}). The event's type is
 * {@code event.type} (a distribution webhook's {@code type} is the name its author gave it); which types have an effect
 * is data in {@code mappings/loyalty/events.csv}:
 * <ul>
 * <li>{@code voucher.loyalty_card.transaction.created}, one per points transaction of a loyalty card (accrual,
 * redemption, refund, addition, removal, expiration, transfer), becomes a canonical {@link LoyaltyTransaction} through
 * {@code mappings/loyalty/transaction.jslt}, valued here in the money of the holder's legal entity
 * ({@code mappings/loyalty/point-values.csv}) and published under that entity, so the ledger posts it where the
 * customer's books are;</li>
 * <li>{@code customer.loyalty.tier.*} becomes a canonical {@link LoyaltyTierChange}
 * ({@code mappings/loyalty/tier-change.jslt}).</li>
 * </ul>
 *
 * <p>Idempotency: Voucherify signs no time, so a replayed or re-sent delivery is caught by its key: the transaction's
 * id for a transaction (the same transaction sent by two webhooks is one event), the event's id otherwise, both within
 * the project: {@code loyalty:voucherify:<project>:<id>}.
 *
 * <p>A signed body that is JSON but not a loyalty event this runtime can read (a field missing or of another type, an
 * unknown transaction type), or a transaction it cannot value yet (its holder is not a customer of the master, the
 * customer has no legal entity yet and no default is configured, the entity has no point value), is parked as a dead letter of
 * {@link #EVENT_ROUTE_ID} with the reason and acknowledged: Voucherify retries a refused webhook twelve times and then
 * disables the webhook, which would stop every later event too. Only a body that is not JSON at all is refused (400).
 */
public final class LoyaltyWebhook implements WebhookSource {

    public static final String ROUTE_ID = "loyalty.webhook-ingest";
    /** The single-event route through which a parked loyalty event is replayed. */
    public static final String EVENT_ROUTE_ID = "loyalty.event";
    public static final String PATH = "/webhooks/loyalty";
    public static final String SOURCE = "/loyalty/voucherify";
    public static final String TRANSACTION_MAPPING = LoyaltyValuation.TRANSACTION_MAPPING;
    public static final String TIER_MAPPING = "loyalty/tier-change";
    public static final String ACKNOWLEDGED_METRIC = "micrometer:counter:interchange.loyalty.events.acknowledged";
    /** The customer-master field that names a customer's legal entity. */
    public static final String LEGAL_ENTITY_FIELD = LoyaltyValuation.LEGAL_ENTITY_FIELD;

    private final VoucherifySignatureVerifier verifier;
    private final MappingEngine mappings;
    private final LoyaltyValuation valuation;
    private final CustomerFields customers;
    private final ParkedEvents parkedEvents;
    /** Where consent changes go (the consent topic), and what the runtime wrote (their echoes); null: not taken. */
    private String consentTopic;
    private io.interchange.store.EchoLedger echoes;
    /** event type -> canonical type; null value: acknowledged without effect. */
    private final Map<String, CanonicalType> types;

    public LoyaltyWebhook(VoucherifySignatureVerifier verifier, MappingEngine mappings, MappingSource source,
                          LegalEntityTable entities, CustomerFields customers, String defaultEntity,
                          IdempotencyStore idempotency, DeadLetterStore deadLetters) {
        this.verifier = verifier;
        this.mappings = mappings;
        this.valuation = new LoyaltyValuation(mappings, source, entities, customers, defaultEntity);
        this.customers = customers;
        this.parkedEvents = new ParkedEvents(idempotency, deadLetters, EVENT_ROUTE_ID, "Loyalty event",
                PermanentFailure.class);
        this.types = readTypes(source);
        mappings.get(TIER_MAPPING); // fail at start-up on a missing mapping
    }

    /**
     * Takes the loyalty app's consent, carried in a {@code customer.updated} event's customer metadata
     * ({@code email_marketing_optin}, {@code email_marketing_optin_at}), to {@code consentTopic} as canonical
     * {@link io.interchange.model.ConsentChange}s (flow {@code consent}); the runtime's own writes coming back are
     * acknowledged without effect.
     */
    public LoyaltyWebhook withConsent(String consentTopic, io.interchange.store.EchoLedger echoes) {
        this.consentTopic = consentTopic;
        this.echoes = echoes;
        return this;
    }

    @Override
    public String system() {
        return "voucherify";
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
        return "loyalty";
    }

    @Override
    public String publishStep() {
        return "kafka.publish-loyalty-event";
    }

    @Override
    public String acknowledgedMetric() {
        return ACKNOWLEDGED_METRIC;
    }

    @Override
    public String expected() {
        return "a Voucherify webhook as JSON";
    }

    @Override
    public String label() {
        return "Loyalty event";
    }

    @Override
    public boolean batch() {
        return false;
    }

    @Override
    public SignatureVerifier verifier() {
        return verifier;
    }

    @Override
    public List<InboundEvent> read(byte[] body, String correlationId) {
        JsonNode webhook = WebhookJson.parse(body); // not JSON at all: 400, Voucherify never sends that
        try {
            return List.of(read(webhook, correlationId));
        } catch (WebhookRejection | PermanentFailure unreadable) {
            return List.of(parked(webhook, body, unreadable.getMessage()));
        }
    }

    @Override
    public InboundEvent readOne(byte[] event, String correlationId) {
        JsonNode webhook;
        try {
            webhook = WebhookJson.parse(event);
        } catch (WebhookRejection e) {
            throw new PermanentFailure(e.getMessage());
        }
        try {
            return read(webhook, correlationId);
        } catch (WebhookRejection e) {
            throw new PermanentFailure(e.getMessage());
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

    /** The type as a metric tag: a Voucherify event type's shape ({@code customer.loyalty.tier.upgraded}), else other. */
    @Override
    public String metricType(String type) {
        return type != null && type.length() <= 60 && type.matches("[a-z_]+(\\.[a-z_]+){1,4}") ? type : "other";
    }

    /** The idempotency key of a loyalty event: its transaction's id or its event's id, within its project. */
    public static String ingestKey(String project, String id) {
        return "loyalty:voucherify:" + project + ":" + id;
    }

    private InboundEvent read(JsonNode webhook, String correlationId) {
        if (!webhook.isObject()) {
            throw new WebhookRejection(400, "body is a " + kind(webhook) + ", not a Voucherify webhook (an object)");
        }
        String project = text(webhook, "project_id");
        String type = webhook.path("event").hasNonNull("type") ? text(webhook.path("event"), "event.type")
                : text(webhook, "type");
        String eventId = webhook.path("event").hasNonNull("id") ? text(webhook.path("event"), "event.id")
                : text(webhook, "id");
        if (!types.containsKey(type)) {
            return InboundEvent.ignored(eventId, ingestKey(project, eventId), type, "event type "
                    + WebhookJson.printable(type) + " is not handled by this runtime (mappings/loyalty/events.csv)");
        }
        CanonicalType canonical = types.get(type);
        if (canonical == null) {
            return InboundEvent.ignored(eventId, ingestKey(project, eventId), type, "event type " + type
                    + " has no effect here (mappings/loyalty/events.csv)");
        }
        if (canonical == CanonicalType.CONSENT_CHANGED) return consent(webhook, project, type, eventId, correlationId);
        return canonical == CanonicalType.LOYALTY_TRANSACTION
                ? transaction(webhook, project, type, correlationId)
                : tierChange(webhook, project, type, eventId, correlationId);
    }

    private InboundEvent transaction(JsonNode webhook, String project, String type, String correlationId) {
        LoyaltyValuation.Valued valued = valuation.value(webhook);
        LoyaltyTransaction t = valued.transaction();
        String transactionId = t.transactionId();
        String key = ingestKey(project, transactionId);
        String globalId = t.customer().globalId();
        CanonicalType c = CanonicalType.LOYALTY_TRANSACTION;
        Envelope envelope = new Envelope(eventId(project, transactionId), SOURCE, c.ceType(), globalId, t.occurredAt(),
                c.dataSchema(), correlationId, valued.legalEntity());
        return InboundEvent.publish(transactionId, key, type, envelope, json(t), "(" + t.type() + " " + t.points()
                + " points, " + t.amountMinor() + " " + t.currency() + " minor units, entity " + valued.legalEntity() + ")");
    }

    /**
     * A customer's consent as the loyalty app states it in the customer's metadata. {@code customer.updated} says
     * nothing about what changed, so the statement's own time ({@code email_marketing_optin_at}) is its source time
     * when given, else the customer's {@code updated_at}: an update of another field then restates the consent at
     * that time, which is why the loyalty app should set both keys together.
     */
    private InboundEvent consent(JsonNode webhook, String project, String type, String eventId, String correlationId) {
        String key = ingestKey(project, eventId);
        JsonNode customer = webhook.path("data").path("customer");
        JsonNode optIn = customer.path("metadata").path(io.interchange.consent.ConsentWriters.LOYALTY_OPT_IN);
        if (consentTopic == null || !optIn.isBoolean()) {
            return InboundEvent.ignored(eventId, key, type, consentTopic == null ? "consent is not taken here"
                    : "the customer's metadata states no " + io.interchange.consent.ConsentWriters.LOYALTY_OPT_IN);
        }
        String globalId = textOrNull(customer, "source_id");
        if (globalId == null || globalId.isBlank()) {
            throw new PermanentFailure("customer " + customer.path("id").asText("unknown") + " has no source_id, so it "
                    + "is no customer of the master data: link it to a global customer id, then replay");
        }
        Instant at = null;
        for (JsonNode t : List.of(customer.path("metadata").path(io.interchange.consent.ConsentWriters.LOYALTY_OPT_IN_AT),
                customer.path("updated_at"), webhook.path("created_at"))) {
            if (at != null || !t.isTextual()) continue;
            try {
                at = Instant.parse(t.asText());
            } catch (java.time.format.DateTimeParseException ignored) {
                // the next one
            }
        }
        if (at == null) throw new PermanentFailure("customer " + globalId + ": no time to date the consent by");
        boolean granted = optIn.asBoolean();
        if (echoes != null && echoes.isEcho(io.interchange.customer.LoyaltyMemberTarget.SYSTEM, globalId,
                io.interchange.consent.ConsentWriters.LOYALTY_OPT_IN, String.valueOf(granted), at)) {
            return InboundEvent.ignored(eventId, key, type, "the consent is the one this runtime wrote");
        }
        io.interchange.model.ConsentChange change = new io.interchange.model.ConsentChange("loyalty:" + project + ":"
                + eventId, globalId, io.interchange.model.ConsentChange.EMAIL_MARKETING, granted,
                io.interchange.customer.LoyaltyMemberTarget.SYSTEM, io.interchange.model.ConsentChange.time(at), globalId,
                type + " (" + customer.path("id").asText("?") + ")");
        return InboundEvent.publish(eventId, key, type,
                io.interchange.connectors.mailchimp.MailchimpWebhook.envelope(change, correlationId),
                io.interchange.connectors.mailchimp.MailchimpWebhook.json(change),
                "(consent " + (granted ? "granted" : "revoked") + ") for customer " + globalId).toTopic(consentTopic);
    }

    private InboundEvent tierChange(JsonNode webhook, String project, String type, String eventId, String correlationId) {
        JsonNode m = map(TIER_MAPPING, webhook);
        String globalId = m.path("customer").path("globalId").asText(null);
        if (globalId == null || globalId.isBlank()) {
            throw new PermanentFailure("tier change " + eventId + ": its customer (" + m.path("customer").path("systemId")
                    .asText("unknown") + ") has no source_id, so it is no customer of the master data");
        }
        LoyaltyTierChange change;
        try {
            change = WebhookJson.JSON.treeToValue(m, LoyaltyTierChange.class);
        } catch (JsonProcessingException e) {
            throw new PermanentFailure("tier change " + eventId + ": " + e.getOriginalMessage());
        }
        String entity = customers.find(globalId, LEGAL_ENTITY_FIELD).map(CustomerFields.Recorded::value)
                .filter(v -> !v.isBlank()).orElse(null);
        CanonicalType c = CanonicalType.LOYALTY_TIER_CHANGED;
        Envelope envelope = new Envelope(eventId(project, eventId), SOURCE, c.ceType(), globalId, change.occurredAt(),
                c.dataSchema(), correlationId, entity);
        return InboundEvent.publish(eventId, ingestKey(project, eventId), type, envelope, json(change),
                "(" + change.change() + (change.tierTo() != null ? " to " + change.tierTo().name() : "") + ")");
    }

    private static String eventId(String project, String id) {
        return "voucherify:" + project + ":" + id;
    }

    private JsonNode map(String mapping, JsonNode webhook) {
        try {
            JsonNode out = mappings.get(mapping).apply(webhook, mapping);
            if (out == null || !out.isObject()) throw new PermanentFailure(mapping + " mapped the event to nothing");
            return out;
        } catch (MappingException e) {
            throw new PermanentFailure(e.reason());
        }
    }

    /**
     * A signed body this runtime cannot read, kept for an operator with the reason. Its key is the transaction's or
     * event's where those can be read, else one of its content, so a re-sent webhook is not parked twice.
     */
    private InboundEvent parked(JsonNode webhook, byte[] body, String reason) {
        String project = webhook.path("project_id").isTextual() ? webhook.path("project_id").asText() : "unknown";
        JsonNode transaction = webhook.path("data").path("transaction").path("id");
        JsonNode event = webhook.path("event").path("id");
        String id = transaction.isTextual() ? transaction.asText()
                : event.isTextual() ? event.asText()
                : webhook.path("id").isTextual() ? webhook.path("id").asText() : null;
        String key = id != null ? ingestKey(project, id) : "loyalty:voucherify:unidentified:" + WebhookJson.sha256Hex(body);
        JsonNode type = webhook.path("event").path("type").isTextual() ? webhook.path("event").path("type")
                : webhook.path("type");
        return InboundEvent.parked(id == null ? "unidentified" : id, key, type.isTextual() ? type.asText() : null,
                reason + "; kept as it came, to be replayed through " + EVENT_ROUTE_ID + " once it can be processed");
    }

    private static String text(JsonNode node, String field) {
        String name = field.contains(".") ? field.substring(field.lastIndexOf('.') + 1) : field;
        JsonNode v = node.path(name);
        if (!v.isTextual() || v.asText().isBlank()) {
            throw new WebhookRejection(400, (v.isMissingNode() || v.isNull() ? "missing required field " + field
                    : field + " is not a string"));
        }
        return v.asText();
    }

    private static String textOrNull(JsonNode node, String field) {
        JsonNode v = node.path(field);
        return v.isNull() || v.isMissingNode() ? null : v.asText();
    }

    private static byte[] json(Object value) {
        try {
            return WebhookJson.JSON.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String kind(JsonNode n) {
        return n.getNodeType().name().toLowerCase();
    }

    private static Map<String, CanonicalType> readTypes(MappingSource source) {
        Map<String, CanonicalType> out = new LinkedHashMap<>();
        for (CsvTable.Row row : CsvTable.read(source, "loyalty/events.csv", "event_type", "canonical_type")) {
            String name = row.get("canonical_type");
            CanonicalType type;
            try {
                type = name.equals("NONE") ? null : CanonicalType.valueOf(name);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("mappings/loyalty/events.csv line " + row.line()
                        + ": unknown canonical type " + name);
            }
            if (type != null && type != CanonicalType.LOYALTY_TRANSACTION && type != CanonicalType.LOYALTY_TIER_CHANGED
                    && type != CanonicalType.CONSENT_CHANGED) {
                throw new IllegalArgumentException("mappings/loyalty/events.csv line " + row.line() + ": " + name
                        + " is not a loyalty event");
            }
            if (out.put(row.get("event_type"), type) != null) {
                throw new IllegalArgumentException("mappings/loyalty/events.csv line " + row.line() + ": type "
                        + row.get("event_type") + " listed twice");
            }
        }
        return Collections.unmodifiableMap(out);
    }
}
