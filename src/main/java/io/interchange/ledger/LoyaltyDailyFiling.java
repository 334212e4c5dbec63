package io.interchange.ledger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.connectors.kafka.KafkaBatches;
import io.interchange.mapping.LegalEntity;
import io.interchange.mapping.LegalEntityTable;
import io.interchange.model.CanonicalType;
import io.interchange.model.Envelope;
import io.interchange.model.LoyaltyFiling;
import io.interchange.model.LoyaltyTransaction;
import io.interchange.store.LoyaltyFilings;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.support.DefaultMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The daily filing of loyalty points transactions for the legal entities that choose it
 * ({@code mappings/loyalty/point-values.csv}, column {@code filing}): instead of one journal entry per transaction as it
 * arrives, one per entity and day.
 * <ol>
 * <li>{@link #record}: the loyalty topic's transactions of those entities are recorded in the store as they arrive (on
 * the recorder's own consumer group; the ledger's consumers take them for no posting of their own);</li>
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

    /** Records a poll's transactions of the entities filed daily, then commits the poll's offsets. */
    public void record(Exchange batch) {
        List<?> polled = batch.getMessage().getBody(List.class);
        if (polled == null || polled.isEmpty()) return;
        List<Exchange> records = KafkaBatches.stillOwned(polled);
        List<LoyaltyFilings.Item> items = new ArrayList<>();
        for (Exchange r : records) {
            Message m = r.getMessage();
            Envelope envelope = CloudEventHeaders.read(m);
            if (!CanonicalType.LOYALTY_TRANSACTION.ceType().equals(envelope.type())) continue;
            if (!daily.contains(envelope.legalEntity())) continue;
            byte[] body = m.getBody(byte[].class);
            LoyaltyTransaction t;
            try {
                t = JSON.readValue(body, LoyaltyTransaction.class);
            } catch (IOException e) {
                // the edge wrote it; a record that is not one is no transaction to file (the ledger dead-letters it)
                LOG.warn("Loyalty transaction {} is not readable, not filed: {}", envelope.id(), e.getMessage());
                continue;
            }
            items.add(new LoyaltyFilings.Item(envelope.id(), t.transactionId(), envelope.legalEntity(),
                    LocalDate.parse(t.occurredOn()), t.amountMinor(), t.currency(), body));
        }
        if (!items.isEmpty()) {
            int added = filings.record(items);
            LOG.debug("Recorded {} loyalty transaction(s) for daily filing ({} recorded before)", added,
                    items.size() - added);
        }
        KafkaBatches.commitOffsets(records);
    }

    /**
     * Files every entity's closed days, then publishes every filing not yet published (this run's, and any a crash
     * left unpublished) through {@code publisher}. Returns the filings published.
     */
    public List<LoyaltyFilings.Filing> fileClosedDays(ProducerTemplate publisher, String uri) {
        for (String entityId : daily) {
            LegalEntity entity = entities.find(entityId).orElse(null);
            if (entity == null) {
                LOG.warn("Loyalty filing: legal entity {} of mappings/loyalty/point-values.csv is not in "
                        + "mappings/legal-entities.csv; nothing filed for it", entityId);
                continue;
            }
            ZonedDateTime now = clock.instant().atZone(entity.timeZone());
            LocalDate closed = now.minus(grace).toLocalDate().minusDays(1);
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
