package io.interchange.connectors.crm;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.connectors.webhook.InboundEvent;
import io.interchange.connectors.webhook.WebhookEdge;
import io.interchange.connectors.webhook.WebhookJson;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingException;
import io.interchange.model.CanonicalType;
import io.interchange.model.CustomerChange;
import io.interchange.model.Envelope;
import io.interchange.management.PersonalData;
import io.interchange.reliability.FailureClassifier;
import io.interchange.store.DeadLetter;
import io.interchange.store.DeadLetterStore;
import io.interchange.store.IdempotencyStore;
import io.interchange.store.StreamPositions;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.Exchange;
import org.apache.camel.support.SynchronizationAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Salesforce Change Data Capture events (Account and Contact, as the Streaming API delivers them to camel-salesforce
 * with {@code rawPayload=true}) to canonical {@link CustomerChange}s on the customer topic: one per record an event
 * names ({@code recordIds}), through {@code mappings/salesforce/customer-change.jslt}, keyed by the customer so a
 * customer's changes stay in order. Each is claimed under {@code crm:salesforce:<transactionKey>:<sequenceNumber>:
 * <recordId>} (a replay id is opaque and changes when an org moves; the transaction key and sequence number identify
 * the change), so an event delivered again after a restart or a resubscription is absorbed. After the effect is
 * committed, the channel's position (replay id, commit time) is stored, and a restart subscribes from it. The same
 * event may also come twice within one subscription: camel-salesforce 4.18 can subscribe a channel's listener twice
 * (its connect listener subscribes again the channels whose subscribe reply has not arrived yet), and CometD 9 keeps
 * both and hands each message to each; such a repeat of the event just settled is skipped, and any other repeat is
 * absorbed by its key (a parked event is parked once).
 *
 * <p>What events cannot carry is read back by query ({@link SalesforceReader}): the records a gap event names
 * ({@code GAP_CREATE}, {@code GAP_UPDATE}, {@code GAP_DELETE}, {@code GAP_UNDELETE}: header only), and the entity's
 * records changed since the transaction of a {@code GAP_OVERFLOW} or of a wildcard record id. Events whose
 * {@code changeOrigin} carries this runtime's call-options client id are its own writes coming back: acknowledged and
 * counted, not published (else every write would come back as a change to write again).
 */
public final class SalesforceChangeEvents {

    private static final Logger LOG = LoggerFactory.getLogger(SalesforceChangeEvents.class);

    public static final String SYSTEM = "salesforce";
    public static final String SOURCE = "/crm/salesforce";
    public static final String MAPPING = "salesforce/customer-change";
    public static final String BACKFILL_ROUTE_ID = "crm.salesforce-backfill";
    /** Where a change event that cannot be mapped is parked, and through which an operator replays it. */
    public static final String PARKED_ROUTE_ID = "crm.salesforce-change-event";
    public static final String PARKED_ENDPOINT = "direct:" + PARKED_ROUTE_ID;
    public static final String BACKFILL_ENDPOINT = "direct:" + BACKFILL_ROUTE_ID;
    /** Events acknowledged without effect ({@code outcome} echo or ignored, {@code type}). */
    public static final String ACKNOWLEDGED_METRIC = "interchange.salesforce.events.acknowledged";
    /** Read-backs after a lost stream position ({@code system}, {@code channel}). */
    public static final String BACKFILLS_METRIC = "interchange.crm.backfills";
    /** Records those read-backs read ({@code system}, {@code channel}). */
    public static final String BACKFILL_RECORDS_METRIC = "interchange.crm.backfill.records";

    /** Exchange property: the {@link InboundEvent}s of one change event, or of one page of a read-back. */
    public static final String EVENTS = "InterchangeSalesforceEvents";
    /** Exchange property: the claim outcome of each event to publish, in order (null: claimed by this exchange). */
    public static final String STATES = "InterchangeSalesforceClaimStates";
    /** Exchange property: the {@link Position} a change event moves its channel to once its effect is committed. */
    public static final String POSITION = "InterchangeSalesforcePosition";

    /** Entities mapped to customer changes, and their canonical object type. */
    static final Map<String, String> ENTITIES = Map.of("Account", "company", "Contact", "contact");

    private static final DateTimeFormatter MILLIS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);
    private static final Map<String, CanonicalType> TYPES = Map.of(
            "created", CanonicalType.CUSTOMER_CREATED,
            "updated", CanonicalType.CUSTOMER_UPDATED,
            "deleted", CanonicalType.CUSTOMER_DELETED,
            "restored", CanonicalType.CUSTOMER_RESTORED);

    /** Where one change event leaves its channel. */
    public record Position(String channel, long replayId, Instant commitTimestamp) {
    }

    private final MappingEngine mappings;
    private final IdempotencyStore idempotency;
    private final StreamPositions positions;
    private final DeadLetterStore deadLetters;
    private final String clientId;
    /** Per channel, the replay id of the last event settled here (its effect committed, its position stored). */
    private final Map<String, Long> lastSettled = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile Supplier<String> orgId = () -> null;
    private volatile SalesforceReader reader;
    private volatile MeterRegistry meters;
    private volatile Stalls stalls = new Stalls() {
        @Override
        public void failed(String channel, Position failed) {
        }

        @Override
        public boolean stalled(String channel) {
            return false;
        }
    };

    /**
     * Told when a change event fails, so its channel subscribes again from its stored position; while that is pending
     * the channel is stalled and its later events are skipped (they come again).
     */
    public interface Stalls {
        void failed(String channel, Position failed);

        boolean stalled(String channel);

        /** An event of the channel was processed: failures in a row are over. */
        default void processed(String channel) {
        }
    }

    public SalesforceChangeEvents(MappingEngine mappings, IdempotencyStore idempotency, StreamPositions positions,
                                  DeadLetterStore deadLetters, String clientId) {
        this.mappings = mappings;
        this.idempotency = idempotency;
        this.positions = positions;
        this.deadLetters = deadLetters;
        this.clientId = clientId;
        mappings.get(MAPPING); // fail at start-up on a missing mapping
    }

    /** What the connector needs once Camel runs: the org (from the login), the query client and the metrics. */
    void connect(Supplier<String> orgId, SalesforceReader reader, MeterRegistry meters, Stalls stalls) {
        this.orgId = orgId;
        this.reader = reader;
        this.meters = meters;
        this.stalls = stalls;
    }

    public StreamPositions positions() {
        return positions;
    }

    // ------------------------------------------------------------------------------------------- route steps

    /**
     * Reads one change event (its raw CometD message) into the customer changes to publish, or an acknowledgement. On
     * a channel's route, an event that cannot be mapped (a shape Salesforce does not document) is parked as a dead
     * letter of {@value #PARKED_ROUTE_ID} and the channel moves on; replayed through that route it fails again until
     * the mapping takes it. An event that fails otherwise (a read-back query, the store, Kafka) stalls its channel.
     */
    public void read(Exchange exchange) throws IOException {
        byte[] body = exchange.getMessage().getBody(byte[].class);
        boolean replay = PARKED_ROUTE_ID.equals(exchange.getFromRouteId());
        JsonNode message = WebhookJson.JSON.readTree(body);
        String channel = message.path("channel").asText();
        JsonNode data = message.path("data");
        JsonNode payload = data.path("payload");
        JsonNode header = payload.path("ChangeEventHeader");
        long replayId = data.path("event").path("replayId").asLong();
        if (replay) {
            exchange.setProperty(EVENTS, translate(channel, replayId, payload, header));
            return;
        }
        Instant commit = Instant.ofEpochMilli(header.path("commitTimestamp").asLong());
        Position position = new Position(channel, replayId, commit);
        if (Long.valueOf(replayId).equals(lastSettled.get(channel))) {
            // the event just settled, handed over once more (see the class comment): done, nothing to count or move
            LOG.debug("Salesforce event {}#{} delivered again right after it was processed; skipped", channel, replayId);
            return;
        }
        if (stalls.stalled(channel)) {
            // an earlier event failed: this one comes again once the channel subscribes from the stored position
            LOG.debug("Salesforce event {}#{} skipped: the channel subscribes again from its last processed event",
                    channel, replayId);
            return;
        }
        exchange.setProperty(POSITION, position);
        // a failed event's channel subscribes again from its stored position: nothing after it may move it
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onFailure(Exchange failed) {
                stalls.failed(channel, position);
            }
        });
        List<InboundEvent> events;
        try {
            events = translate(channel, replayId, payload, header);
        } catch (IllegalArgumentException e) {
            String id = channel + "#" + replayId;
            String key = "crm:salesforce:" + header.path("transactionKey").asText() + ":"
                    + header.path("sequenceNumber").asText();
            // the same event delivered again (a resubscription, camel-salesforce handing it over twice) is parked once
            long parked = deadLetters.findOpen(PARKED_ROUTE_ID, key).map(DeadLetter::id).orElseGet(() -> {
                long added = deadLetters.add(PARKED_ROUTE_ID, id, key, FailureClassifier.PERMANENT,
                        e.getClass().getName(), e.getMessage(), 1, Map.of(), body);
                LOG.warn("Salesforce event {} parked as dead letter #{} (replay it through {} once the mapping takes "
                        + "it): {}", id, added, PARKED_ROUTE_ID, PersonalData.mask(String.valueOf(e.getMessage())));
                return added;
            });
            events = List.of(InboundEvent.ignored(id, key, header.path("entityName").asText() + "ChangeEvent."
                    + header.path("changeType").asText(), "parked as dead letter #" + parked));
        }
        exchange.setProperty(EVENTS, events);
    }

    /** Claims the key of every event to publish in one group commit; keys are released if the exchange fails. */
    public void claim(Exchange exchange) {
        List<InboundEvent> publishing = publishing(exchange);
        List<String> keys = publishing.stream().map(InboundEvent::key).toList();
        List<IdempotencyStore.DuplicateState> states = idempotency.claimAllNoting(keys);
        List<IdempotencyStore.DuplicateState> refused = new ArrayList<>();
        List<String> held = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            IdempotencyStore.DuplicateState s = states.get(i);
            if (s == IdempotencyStore.DuplicateState.TAKEN_OVER) s = null;
            refused.add(s);
            if (s == null) held.add(keys.get(i));
        }
        exchange.setProperty(STATES, refused);
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onFailure(Exchange failed) {
                for (String key : held) idempotency.releaseUnsettled(key);
            }
        });
    }

    /** The claimed events as Kafka records: CloudEvents headers, the customer as key, canonical JSON as value. */
    public void toRecords(Exchange exchange) {
        WebhookEdge.toRecords(exchange, claimed(exchange));
    }

    /** After Kafka acknowledged: the keys are done, then the channel's position moves past this event. */
    public void settle(Exchange exchange) {
        List<InboundEvent> claimed = claimed(exchange);
        idempotency.confirmAll(claimed.stream().map(InboundEvent::key).toList());
        for (InboundEvent e : claimed) {
            LOG.info("Salesforce change {} published {}", e.id(), e.detail());
        }
        for (InboundEvent e : events(exchange)) {
            if (e.kind() == InboundEvent.Kind.IGNORED) {
                String outcome = e.reason().startsWith("echo") ? "echo"
                        : e.reason().startsWith("parked") ? "parked" : "ignored";
                count(ACKNOWLEDGED_METRIC, "outcome", outcome, "type", e.type());
                LOG.debug("Salesforce event {} acknowledged without effect: {}", e.id(), e.reason());
            }
        }
        Position p = exchange.getProperty(POSITION, Position.class);
        if (p != null) {
            positions.advance(SYSTEM, p.channel(), p.replayId(), p.commitTimestamp());
            lastSettled.put(p.channel(), p.replayId());
            stalls.processed(p.channel());
        }
    }

    public static boolean hasToPublish(Exchange exchange) {
        return !publishing(exchange).isEmpty();
    }

    public static boolean hasClaimed(Exchange exchange) {
        return !claimed(exchange).isEmpty();
    }

    // ------------------------------------------------------------------------------------------- translation

    List<InboundEvent> translate(String channel, long replayId, JsonNode payload, JsonNode header) {
        String entity = header.path("entityName").asText();
        String changeType = header.path("changeType").asText();
        String origin = header.path("changeOrigin").asText("");
        String tx = header.path("transactionKey").asText();
        String seq = header.path("sequenceNumber").asText();
        String eventId = channel + "#" + replayId;
        String type = entity + "ChangeEvent." + changeType;
        String base = "crm:salesforce:" + tx + ":" + seq;
        List<String> ids = new ArrayList<>();
        header.path("recordIds").forEach(id -> ids.add(id.asText()));
        if (!ENTITIES.containsKey(entity)) {
            return List.of(InboundEvent.ignored(eventId, base, type, "entity " + WebhookJson.printable(entity)
                    + " is not mapped to customer changes (Account and Contact are)"));
        }
        if (isEcho(origin)) {
            return List.of(InboundEvent.ignored(eventId, base, type, "echo of this runtime's own write (" + origin + ")"));
        }
        Instant commit = Instant.ofEpochMilli(header.path("commitTimestamp").asLong());
        boolean wildcard = ids.stream().anyMatch(id -> id.endsWith("*"));
        List<InboundEvent> out = new ArrayList<>();
        if (changeType.equals("GAP_OVERFLOW") || wildcard) {
            // no record ids (overflow) or only a key prefix (a field type conversion): every record of the entity
            // changed since the transaction is read back
            List<JsonNode> records = reader().changedSince(entity, commit.minusSeconds(1));
            for (JsonNode r : records) out.add(fromRecord(r, "gap", null, base + ":" + r.path("Id").asText() + ":"
                    + r.path("SystemModstamp").asText(), eventId));
            LOG.warn("Salesforce {} on {} (transaction {}): {} {} record(s) changed since {} read back and published",
                    wildcard ? changeType + " with wildcard record ids " + ids : changeType, channel, tx,
                    records.size(), entity, commit);
            return out;
        }
        if (changeType.startsWith("GAP_")) {
            Map<String, JsonNode> records = reader().byIds(entity, ids);
            for (String id : ids) {
                JsonNode r = records.get(id);
                if (r == null) {
                    if (!changeType.equals("GAP_DELETE")) {
                        LOG.warn("Salesforce {} names {} {}, which a read back does not find: nothing published",
                                changeType, entity, id);
                        continue;
                    }
                    // a record deleted for good (emptied from the recycle bin) is not even in queryAll
                    ObjectNode gone = WebhookJson.JSON.createObjectNode();
                    gone.putObject("attributes").put("type", entity);
                    gone.put("Id", id);
                    gone.put("IsDeleted", true);
                    gone.put("SystemModstamp", MILLIS.format(commit));
                    r = gone;
                }
                out.add(fromRecord(r, "gap", changeType, base + ":" + id, eventId));
            }
            return out;
        }
        String occurredAt = MILLIS.format(commit);
        for (String id : ids) {
            ObjectNode input = WebhookJson.JSON.createObjectNode();
            input.put("org", org());
            input.put("recordId", id);
            input.put("occurredAt", occurredAt);
            input.put("origin", "event");
            input.set("event", payload);
            out.add(publish(input, base + ":" + id, eventId, type));
        }
        return out;
    }

    /** One record read back by query, as a change to publish. */
    InboundEvent fromRecord(JsonNode record, String origin, String changeType, String key, String eventId) {
        ObjectNode input = WebhookJson.JSON.createObjectNode();
        input.put("org", org());
        input.put("recordId", record.path("Id").asText());
        input.put("occurredAt", occurredAt(record.path("SystemModstamp").asText()));
        input.put("origin", origin);
        if (changeType != null) input.put("changeType", changeType);
        input.set("record", record);
        String entity = record.path("attributes").path("type").asText();
        return publish(input, key, eventId, entity + "." + origin);
    }

    private InboundEvent publish(ObjectNode input, String key, String eventId, String type) {
        String where = "Salesforce " + eventId + " record " + input.path("recordId").asText();
        CustomerChange change;
        try {
            change = mappings.get(MAPPING).apply(input, CustomerChange.class, where);
        } catch (MappingException e) {
            // a shape Salesforce does not send: the route's failure handling keeps the event
            throw new IllegalArgumentException(where + ": " + e.reason(), e);
        }
        CanonicalType canonical = TYPES.get(change.change());
        Envelope envelope = new Envelope(key.substring("crm:".length()), SOURCE, canonical.ceType(),
                change.customer().globalId(), change.occurredAt(), canonical.dataSchema(), eventId, null, null, null);
        byte[] json;
        try {
            json = WebhookJson.JSON.writeValueAsBytes(change);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        return InboundEvent.publish(eventId, key, type, envelope, json, "(" + change.objectType() + " "
                + change.objectId() + " " + change.change() + ", " + change.origin() + ")");
    }

    /** True when a change's origin names this runtime's call-options client: {@code ...;client=<id>}. */
    boolean isEcho(String changeOrigin) {
        if (clientId.isBlank() || changeOrigin == null) return false;
        int at = changeOrigin.indexOf(";client=");
        return at >= 0 && changeOrigin.substring(at + ";client=".length()).equals(clientId);
    }

    /** Salesforce's {@code 2026-12-05T10:31:22.000+0000} as ISO-8601 UTC with milliseconds. */
    static String occurredAt(String salesforceDateTime) {
        Instant t = SalesforceReader.instant(salesforceDateTime);
        return t == null ? salesforceDateTime : MILLIS.format(t);
    }

    private String org() {
        String org = orgId.get();
        if (org == null) throw new IllegalStateException("Salesforce org id not known yet (not logged in)");
        return org;
    }

    SalesforceReader reader() {
        SalesforceReader r = reader;
        if (r == null) throw new IllegalStateException("Salesforce query client not started");
        return r;
    }

    void count(String name, String... tags) {
        MeterRegistry m = meters;
        if (m != null) Counter.builder(name).tags(tags).register(m).increment();
    }

    void count(String name, double amount, String... tags) {
        MeterRegistry m = meters;
        if (m != null) Counter.builder(name).tags(tags).register(m).increment(amount);
    }

    @SuppressWarnings("unchecked")
    static List<InboundEvent> events(Exchange exchange) {
        List<InboundEvent> events = exchange.getProperty(EVENTS, List.class);
        return events == null ? List.of() : events;
    }

    static List<InboundEvent> publishing(Exchange exchange) {
        return events(exchange).stream().filter(e -> e.kind() == InboundEvent.Kind.PUBLISH).toList();
    }

    @SuppressWarnings("unchecked")
    static List<InboundEvent> claimed(Exchange exchange) {
        List<IdempotencyStore.DuplicateState> states = exchange.getProperty(STATES, List.class);
        if (states == null) return List.of();
        List<InboundEvent> publishing = publishing(exchange);
        List<InboundEvent> out = new ArrayList<>();
        for (int i = 0; i < publishing.size(); i++) if (states.get(i) == null) out.add(publishing.get(i));
        return out;
    }
}
