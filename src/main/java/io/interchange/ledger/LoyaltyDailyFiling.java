package io.interchange.ledger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.mapping.LegalEntity;
import io.interchange.mapping.LegalEntityTable;
import io.interchange.model.CanonicalType;
import io.interchange.model.Envelope;
import io.interchange.model.LoyaltyFiling;
import io.interchange.model.LoyaltyTransaction;
import io.interchange.reliability.PermanentFailure;
import io.interchange.store.LoyaltyFilings;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.camel.support.DefaultMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZonedDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.ToLongBiFunction;

/**
 * The daily filing of loyalty points transactions for the legal entities that choose it
 * ({@code mappings/loyalty/point-values.csv}, column {@code filing}): instead of one journal entry per transaction as it
 * arrives, one per entity and day.
 * <ol>
 * <li>{@link #record}: the loyalty topic's transactions of those entities are recorded in the store as they arrive,
 * by the ledger consumer of the ERP target the transaction's entity and date name ({@link LedgerBatch}), in place of
 * posting them;</li>
 * <li>{@link #fileClosedDays}: once a day has closed in an entity's time zone (plus
 * {@code interchange.loyalty.filing-grace} for late deliveries), its unfiled transactions are assigned to that day's
 * filing in one store transaction, and the filing is published as one canonical {@code loyalty.filing.closed} event on
 * the loyalty topic. The ledger's consumers post it like any event, exactly once by its id, as one journal entry with
 * one line pair per transaction (the transaction's id in the line texts); the store keeps which filing each
 * transaction went into ({@link LoyaltyFilings#filingOf}).</li>
 * </ol>
 * The job runs on one instance at a time ({@code master:} over the runtime's cluster service); were two to run, the
 * store's unique filing per entity and date would keep the second from filing anything.
 */
public final class LoyaltyDailyFiling {

    private static final Logger LOG = LoggerFactory.getLogger(LoyaltyDailyFiling.class);
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    public static final String SOURCE = "/interchange/loyalty-filing";
    private static final int PUBLISH_BATCH = 10;

    private final LoyaltyFilings filings;
    private final LegalEntityTable entities;
    private final Set<String> daily;
    private final Duration grace;
    private final int maxPerPart;
    private final Clock clock;

    public LoyaltyDailyFiling(LoyaltyFilings filings, LegalEntityTable entities, Set<String> daily, Duration grace,
                              int maxPerPart, Clock clock) {
        this.filings = filings;
        this.entities = entities;
        this.daily = Set.copyOf(daily);
        this.grace = grace;
        this.maxPerPart = maxPerPart;
        this.clock = clock;
    }

    public Set<String> entities() {
        return daily;
    }

    /**
     * Whether an event is a points transaction of an entity filed daily: recorded for its day's filing by the ledger
     * consumer that owns it ({@link LedgerBatch}), never posted on its own.
     */
    public boolean files(Envelope envelope) {
        return filedDaily(daily, envelope);
    }

    /**
     * The rule both the filing and the ledger's posting go by ({@link LedgerPostingService}): a points transaction of one
     * of {@code daily}'s entities is filed with its day, not posted on its own.
     */
    static boolean filedDaily(Set<String> daily, Envelope envelope) {
        return !daily.isEmpty() && CanonicalType.LOYALTY_TRANSACTION.ceType().equals(envelope.type())
                && daily.contains(envelope.legalEntity());
    }

    /**
     * A transaction to record for filing, from its canonical event; one that is not a readable transaction with its
     * date is a permanent failure, with the reason (the ledger dead-letters it: the edge wrote something else).
     */
    public LoyaltyFilings.Item item(Envelope envelope, byte[] body) {
        return item(envelope, body, null);
    }

    /**
     * As {@link #item(Envelope, byte[])}, with the event's data already read as JSON ({@code canonical}, by the ledger's
     * routing; null: read here). Only what the store keeps is read of it: the transaction's id, date, amount and
     * currency.
     */
    public LoyaltyFilings.Item item(Envelope envelope, byte[] body, JsonNode canonical) {
        JsonNode t = canonical;
        if (t == null) {
            try {
                t = JSON.readTree(body);
            } catch (IOException e) {
                throw new PermanentFailure("loyalty transaction " + envelope.id() + " is not readable, not filed: "
                        + e.getMessage());
            }
        }
        if (t == null || !t.isObject()) {
            throw new PermanentFailure("loyalty transaction " + envelope.id() + " is not a JSON object, not filed");
        }
        String transactionId = t.path("transactionId").textValue();
        String currency = t.path("currency").textValue();
        String occurredOn = t.path("occurredOn").textValue();
        JsonNode amount = t.path("amountMinor");
        if (transactionId == null || currency == null || occurredOn == null || !amount.isIntegralNumber()
                || !amount.canConvertToLong()) {
            throw new PermanentFailure("loyalty transaction " + envelope.id() + " has no transactionId, currency, "
                    + "occurredOn or amountMinor, not filed");
        }
        LocalDate on;
        try {
            on = LocalDate.parse(occurredOn);
        } catch (DateTimeParseException e) {
            throw new PermanentFailure("loyalty transaction " + envelope.id() + " has no date ('" + occurredOn
                    + "'), not filed");
        }
        return new LoyaltyFilings.Item(envelope.id(), transactionId, envelope.legalEntity(), on, amount.longValue(),
                currency, body);
    }

    /** Records transactions for their days' filings, in one commit; one recorded before is left as it is. */
    public void record(List<LoyaltyFilings.Item> items) {
        if (items.isEmpty()) return;
        int added = filings.record(items);
        LOG.debug("Recorded {} loyalty transaction(s) for daily filing ({} recorded before)", added, items.size() - added);
    }

    /**
     * Records the transactions among records read straight from the loyalty topic (the retired recorder group's
     * hand-over, {@link FilingRecorders#handOver}); one not readable is named in a warning, as the recorder did.
     */
    public int recordRead(List<ConsumerRecord<byte[], byte[]>> read) {
        List<LoyaltyFilings.Item> items = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : read) {
            Envelope envelope = CloudEventHeaders.read(r.headers());
            if (!files(envelope)) continue;
            try {
                items.add(item(envelope, r.value()));
            } catch (PermanentFailure e) {
                LOG.warn("{} (offset {} of {}-{})", e.getMessage(), r.offset(), r.topic(), r.partition());
            }
        }
        record(items);
        return items.size();
    }

    /**
     * Files every entity's closed days, then publishes every filing not yet published (this run's, and any a crash
     * left unpublished) through {@code publisher}. Returns the filings published. {@code behind}: how many records
     * published to the loyalty topic before an instant the ledger's consumers of an ERP target have yet to read
     * ({@link FilingRecorders#behind}); a day is not closed while its target's consumers have not read everything
     * published before its close (its end in the entity's zone, plus the grace), it waits for the next check.
     */
    public List<LoyaltyFilings.Filing> fileClosedDays(ProducerTemplate publisher, String uri,
                                                      ToLongBiFunction<String, Instant> behind) {
        for (String entityId : daily) {
            LegalEntity entity = entities.find(entityId).orElse(null);
            if (entity == null) {
                LOG.warn("Loyalty filing: legal entity {} of mappings/loyalty/point-values.csv is not in "
                        + "mappings/legal-entities.csv; nothing filed for it", entityId);
                continue;
            }
            ZonedDateTime now = clock.instant().atZone(entity.timeZone());
            LocalDate closed = now.minus(grace).toLocalDate().minusDays(1);
            // filed before, or nothing to file (a day is closed by its first filing): the topic is not asked
            if (filings.find(LoyaltyFilings.filingId(entityId, closed, 1)).isPresent()) continue;
            if (!filings.hasUnfiled(entityId, closed)) continue;
            Instant closedAt = closed.plusDays(1).atStartOfDay(entity.timeZone()).toInstant().plus(grace);
            String target = entity.erpTargetOn(closed);
            long unread = behind.applyAsLong(target, closedAt);
            if (unread > 0) {
                LOG.info("Loyalty filing of {} for {} waits: the ledger's {} consumers have {} record(s) published "
                        + "before {} to read yet", entityId, closed, target, unread, closedAt);
                continue;
            }
            List<LoyaltyFilings.Filing> made = filings.close(entityId, closed, maxPerPart);
            for (LoyaltyFilings.Filing f : made) {
                LOG.info("Loyalty filing {}: {} transaction(s) of {} up to {}, net {} minor units {}", f.filingId(),
                        f.transactions(), entityId, closed, f.amountMinor(), f.currency());
            }
        }
        List<LoyaltyFilings.Filing> unpublished = filings.unpublished();
        List<LoyaltyFilings.Filing> published = new ArrayList<>(unpublished.size());
        long started = System.nanoTime();
        // a few filings per send (one batch of Kafka records, acknowledged together), not all of a day's at once:
        // each holds up to interchange.loyalty.filing-max-transactions transactions in memory
        for (int from = 0; from < unpublished.size(); from += PUBLISH_BATCH) {
            List<LoyaltyFilings.Filing> group = unpublished.subList(from, Math.min(unpublished.size(), from + PUBLISH_BATCH));
            List<Message> records = new ArrayList<>(group.size());
            for (LoyaltyFilings.Filing f : group) {
                Message m = new DefaultMessage(publisher.getCamelContext());
                write(filing(f), m);
                records.add(m);
            }
            Exchange sent = publisher.send(uri, e -> e.getMessage().setBody(records));
            if (sent.getException() != null) {
                // published again at the next run; the ledger posts a filing once by its id however often it comes
                LOG.warn("Loyalty filing(s) {} not published ({}); the next run publishes them",
                        group.stream().map(LoyaltyFilings.Filing::filingId).toList(), sent.getException().getMessage());
                break;
            }
            filings.markPublished(group.stream().map(LoyaltyFilings.Filing::filingId).toList());
            published.addAll(group);
        }
        if (!published.isEmpty()) {
            LOG.info("Published {} loyalty filing(s) in {} ms", published.size(), (System.nanoTime() - started) / 1_000_000);
        }
        return published;
    }

    private LoyaltyFiling filing(LoyaltyFilings.Filing f) {
        List<LoyaltyTransaction> transactions = new ArrayList<>(f.transactions());
        for (byte[] item : filings.items(f.filingId())) {
            try {
                transactions.add(JSON.readValue(item, LoyaltyTransaction.class));
            } catch (IOException e) {
                throw new IllegalStateException("filed transaction of " + f.filingId() + " is not readable", e);
            }
        }
        return new LoyaltyFiling(f.filingId(), f.legalEntity(), f.filingDate().toString(), f.part(), f.currency(),
                f.amountMinor(), transactions);
    }

    /**
     * The loyalty topic's record of a filing, keyed by the filing itself: each part is a journal entry of its own,
     * independent of the others, so a day's parts spread over the partitions and the ledger's consumers post them side
     * by side (keyed by entity, one consumer would post every part of the day one after another).
     */
    private void write(LoyaltyFiling filing, Message m) {
        CanonicalType type = CanonicalType.LOYALTY_FILING_CLOSED;
        String subject = filing.filingId();
        CloudEventHeaders.write(new Envelope(filing.filingId(), SOURCE, type.ceType(), subject, clock.instant().toString(),
                type.dataSchema(), filing.filingId(), filing.legalEntity()), m);
        m.setHeader(KafkaConstants.KEY, subject);
        try {
            m.setBody(JSON.writeValueAsBytes(filing));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
