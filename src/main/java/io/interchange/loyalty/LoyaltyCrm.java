package io.interchange.loyalty;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.customer.CrmWriteBack;
import io.interchange.model.CanonicalType;
import io.interchange.reliability.PermanentFailure;
import io.interchange.store.LoyaltyStandings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Loyalty back to the CRM (flow {@code loyalty-crm}): each canonical points transaction's balance and each tier change
 * on the loyalty topic is recorded for its customer (store {@link LoyaltyStandings}, newest wins by the platform's
 * {@code occurredAt}), then the customer's CRM records are written through the master sync's write-back
 * ({@link CrmWriteBack}, mappings {@code <crm>/write-back.jslt}), a poll's customers together: what is written is what
 * is recorded, so an older event arriving after a newer one changes nothing, and the echo ledger leaves a record that
 * holds the values already alone. A member reaching the configured tier gets one task for its account manager
 * ({@link TierTasks}).
 *
 * <p>Every step is safe to repeat (a recorded value is not recorded again, a written one not written again, a task
 * claimed and looked up), so a record the batch could not take simply goes through the flow's single route again.
 */
public final class LoyaltyCrm {

    public static final String METRIC = "interchange_loyalty_crm_events";
    private static final Logger LOG = LoggerFactory.getLogger(LoyaltyCrm.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What happens after the write-back for one tier change (its task); null when nothing does. */
    @FunctionalInterface
    public interface AfterTierChange {
        void apply(TierChange change, boolean mayHaveHappened);
    }

    /** A tier change as the flow reads it. */
    public record TierChange(String eventId, String globalId, String change, String tierId, String tierName,
                             Instant occurredAt) {
    }

    private final LoyaltyStandings standings;
    private final CrmWriteBack writeBack;
    private final AfterTierChange afterTierChange;
    private final MeterRegistry meters;

    public LoyaltyCrm(LoyaltyStandings standings, CrmWriteBack writeBack, AfterTierChange afterTierChange,
                      MeterRegistry meters) {
        this.standings = standings;
        this.writeBack = writeBack;
        this.afterTierChange = afterTierChange;
        this.meters = meters;
    }

    /** The idempotency key of an event's handling by this flow. */
    public static String key(String eventId) {
        return "loyalty:crm:" + eventId;
    }

    /** The canonical types the flow takes. */
    public static Set<String> types() {
        return Set.of(CanonicalType.LOYALTY_TRANSACTION.ceType(), CanonicalType.LOYALTY_TIER_CHANGED.ceType());
    }

    /** One event read: the customer it concerns (null: none known, nothing to write) and its tier change, if one. */
    private record Read(String globalId, TierChange tierChange) {
    }

    /** A poll's claimed events: recorded one by one, written back together; per record null (done) or its failure. */
    public List<RuntimeException> handle(List<Exchange> records) {
        List<RuntimeException> failures = new ArrayList<>(records.size());
        List<Read> reads = new ArrayList<>(records.size());
        Set<String> customers = new LinkedHashSet<>();
        for (Exchange r : records) {
            try {
                Read read = record(r);
                reads.add(read);
                failures.add(null);
                if (read.globalId() != null) customers.add(read.globalId());
            } catch (RuntimeException e) {
                reads.add(null);
                failures.add(e);
            }
        }
        Map<String, RuntimeException> failed = customers.isEmpty() ? Map.of() : writeBack.writeAll(customers);
        for (int i = 0; i < records.size(); i++) {
            Read read = reads.get(i);
            if (read == null || read.globalId() == null) continue;
            RuntimeException e = failed.get(read.globalId());
            if (e != null) {
                failures.set(i, e);
                continue;
            }
            try {
                if (read.tierChange() != null && afterTierChange != null) afterTierChange.apply(read.tierChange(), false);
            } catch (RuntimeException ex) {
                failures.set(i, ex);
            }
        }
        return failures;
    }

    /**
     * The single route's step: one event recorded, its customer written back, its task made; after a redelivery or a
     * replay the task is looked up before it is made.
     */
    public void process(Exchange exchange, boolean mayHaveHappened) {
        Read read = record(exchange);
        if (read.globalId() == null) return;
        RuntimeException e = writeBack.writeAll(List.of(read.globalId())).get(read.globalId());
        if (e != null) throw e;
        if (read.tierChange() != null && afterTierChange != null) afterTierChange.apply(read.tierChange(), mayHaveHappened);
    }

    private Read record(Exchange exchange) {
        String type = exchange.getMessage().getHeader(CloudEventHeaders.TYPE, String.class);
        String eventId = exchange.getMessage().getHeader(CloudEventHeaders.ID, String.class);
        JsonNode event;
        try {
            event = JSON.readTree(exchange.getMessage().getBody(byte[].class));
        } catch (IOException | IllegalArgumentException e) {
            throw new PermanentFailure("loyalty event " + eventId + " is not JSON: " + e.getMessage());
        }
        if (event == null || !event.isObject()) throw new PermanentFailure("loyalty event " + eventId + " has no object");
        String globalId = event.path("customer").path("globalId").asText(null);
        if (globalId == null || globalId.isBlank()) {
            // a card whose holder the platform knows under no global id: no customer, no CRM record to write
            LOG.info("Loyalty event {} names no global customer id: nothing to write to a CRM", eventId);
            count(type, "no_customer");
            return new Read(null, null);
        }
        Instant at = instant(event.path("occurredAt").asText(null), eventId);
        if (CanonicalType.LOYALTY_TRANSACTION.ceType().equals(type)) {
            String movement = event.path("movement").asText("");
            // points the member earned or spent are activity; points expiring or moved away by the platform are not
            boolean activity = event.path("points").asLong(0) != 0
                    && (movement.equals("EARNED") || movement.equals("REDEEMED"));
            if (!event.hasNonNull("balance")) {
                if (activity) standings.recordActivity(globalId, at);
                count(type, "no_balance");
                return new Read(globalId, null);
            }
            boolean newest = standings.recordBalance(globalId, event.path("balance").asLong(), at, activity);
            count(type, newest ? "recorded" : "older");
            return new Read(globalId, null);
        }
        JsonNode to = event.path("tierTo");
        String tierId = to.path("id").asText(null);
        String tierName = to.path("name").asText(null);
        boolean newest = standings.recordTier(globalId, tierId, tierName, at);
        count(type, newest ? "recorded" : "older");
        return new Read(globalId, new TierChange(eventId, globalId, event.path("change").asText(""), tierId, tierName, at));
    }

    private void count(String type, String outcome) {
        if (meters == null) return;
        Counter.builder(METRIC).description("loyalty events of the loyalty-crm flow by type and outcome")
                .tag("type", type == null ? "none" : type.substring(type.lastIndexOf('.', type.lastIndexOf('.') - 1) + 1))
                .tag("outcome", outcome).register(meters).increment();
    }

    private static Instant instant(String s, String eventId) {
        if (s == null) throw new PermanentFailure("loyalty event " + eventId + " has no occurredAt");
        try {
            return Instant.parse(s);
        } catch (DateTimeParseException e) {
            throw new PermanentFailure("loyalty event " + eventId + " has an occurredAt that is not ISO-8601: " + s);
        }
    }
}
