package io.interchange.ledger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.interchange.connectors.erp.ErpConnector;
import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.mapping.LegalEntity;
import io.interchange.mapping.LegalEntityTable;
import io.interchange.mapping.Mapping;
import io.interchange.mapping.MappingEngine;
import io.interchange.model.CanonicalType;
import io.interchange.model.Envelope;
import io.interchange.model.LedgerConfirmation;
import io.interchange.model.LedgerPosting;
import io.interchange.reliability.PermanentFailure;
import io.interchange.store.ErpConfirmations;

import org.apache.camel.Message;
import org.apache.camel.component.kafka.KafkaConstants;

import java.io.IOException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Turns canonical billing events and loyalty points transactions into balanced ledger postings for the right ERP: resolves the legal entity in the
 * routing table, applies {@code mappings/ledger/posting-rules.jslt}, and records what the ERP confirmed.
 */
public final class LedgerPostingService {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** What the ledger posts: billing documents and money movements, and loyalty points transactions. */
    private static final java.util.Set<Class<?>> LEDGER_DATA = java.util.Set.of(io.interchange.model.Invoice.class,
            io.interchange.model.Payment.class, io.interchange.model.Refund.class, io.interchange.model.CreditMemo.class,
            io.interchange.model.Dispute.class, io.interchange.model.LoyaltyTransaction.class,
            io.interchange.model.LoyaltyFiling.class);

    private final Mapping rules;
    private final LegalEntityTable entities;
    private final Map<String, ErpConnector> connectors;
    private final ErpConfirmations confirmations;
    private final java.util.Set<String> filedDaily;

    public LedgerPostingService(MappingEngine mappings, LegalEntityTable entities, Map<String, ErpConnector> connectors,
                                ErpConfirmations confirmations) {
        this(mappings, entities, connectors, confirmations, java.util.Set.of());
    }

    /**
     * @param filedDaily legal entities whose loyalty points transactions are not posted one by one but filed once a
     *                   day ({@code LoyaltyFilingRoute}): their transactions have no ledger effect of their own here,
     *                   their day's filing has
     */
    public LedgerPostingService(MappingEngine mappings, LegalEntityTable entities, Map<String, ErpConnector> connectors,
                                ErpConfirmations confirmations, java.util.Set<String> filedDaily) {
        this.filedDaily = java.util.Set.copyOf(filedDaily);
        this.rules = mappings.get("ledger/posting-rules");
        this.entities = entities;
        this.connectors = connectors;
        this.confirmations = confirmations;
    }

    /** The idempotency key of the posting for a source event. */
    public static String postingKey(String eventId) {
        return "ledger:" + eventId;
    }

    /**
     * The posting for a canonical event, or empty when the event has no ledger effect (a failed payment attempt).
     * Unknown legal entities, unknown event types and unbalanced postings are permanent failures.
     */
    public Optional<LedgerPosting> prepare(Envelope envelope, byte[] data) {
        return prepare(envelope, data, null);
    }

    /**
     * As {@link #prepare(Envelope, byte[])}, with the event's data already read as JSON ({@code canonical}, by
     * {@link #route}; null: read here).
     */
    public Optional<LedgerPosting> prepare(Envelope envelope, byte[] data, JsonNode canonical) {
        LegalEntity entity = ledgerEntity(envelope).orElse(null);
        if (entity == null) return Optional.empty();
        if (canonical == null) {
            try {
                canonical = JSON.readTree(data);
            } catch (IOException e) {
                throw new PermanentFailure("canonical event " + envelope.id() + " is not valid JSON: " + e.getMessage());
            }
        }
        ObjectNode input = JSON.createObjectNode();
        input.putObject("event").put("id", envelope.id()).put("type", envelope.type()).put("source", envelope.source())
                .put("subject", envelope.subject()).put("date", eventDate(envelope, entity));
        input.set("data", canonical);
        input.putObject("entity").put("id", entity.id()).put("companyCode", entity.companyCode())
                .put("legacyCompany", entity.legacyCompany()).put("currency", entity.currency())
                .put("taxRegion", entity.taxRegion());
        input.put("erpTarget", entity.erpTargetOn(postingDate(canonical, envelope, entity)));
        JsonNode out = rules.apply(input, envelope.id());
        if (out == null || out.isNull()) {
            return Optional.empty();
        }
        LedgerPosting posting = rules.bind(out, LedgerPosting.class, envelope.id());
        if (posting.lines().size() < 2 || posting.imbalanceMinor() != 0) {
            throw new PermanentFailure("posting " + posting.postingId() + " is not balanced (debits - credits = "
                    + posting.imbalanceMinor() + " minor units over " + posting.lines().size() + " lines)");
        }
        return Optional.of(posting);
    }

    /**
     * The legal entity of an event that may reach the ledger, from its headers alone; empty when its type has no
     * ledger effect here (a loyalty tier change; a loyalty transaction of an entity filed daily, posted in its day's
     * filing). An event without its CloudEvents id and type, of an unknown type or of an unknown entity is a
     * permanent failure.
     */
    private Optional<LegalEntity> ledgerEntity(Envelope envelope) {
        return entityOf(envelope, false);
    }

    /**
     * As {@link #ledgerEntity}; {@code withFiledDaily}: a loyalty transaction of an entity filed daily has its entity
     * too (it is routed, to be recorded by its target's consumers).
     */
    private Optional<LegalEntity> entityOf(Envelope envelope, boolean withFiledDaily) {
        if (envelope.id() == null || envelope.type() == null) {
            throw new PermanentFailure("record has no ce_id or ce_type header: not a canonical event");
        }
        Optional<CanonicalType> type = CanonicalType.byCeType(envelope.type());
        if (type.isEmpty()) {
            throw new PermanentFailure("unknown canonical event type " + envelope.type());
        }
        if (!LEDGER_DATA.contains(type.get().dataClass())) {
            return Optional.empty(); // a loyalty tier change, on the loyalty topic beside the transactions
        }
        if (!withFiledDaily && LoyaltyDailyFiling.filedDaily(filedDaily, envelope)) {
            return Optional.empty(); // posted in its day's filing
        }
        return Optional.of(entities.find(envelope.legalEntity()).orElseThrow(() -> new PermanentFailure(
                "unknown legal entity '" + envelope.legalEntity() + "': not in mappings/legal-entities.csv")));
    }

    /**
     * Where an event posts, found without the posting rules: {@code target} the ERP ({@link LegalEntity#S4HANA},
     * {@link LegalEntity#LEGACY}) as {@link #prepare} would route it, or null when that cannot be told before mapping
     * it (no ledger effect, an unknown entity or type, data that is not JSON, no posting date: mapping it says why);
     * {@code canonical} the data read as JSON where it was read, for {@link #prepare(Envelope, byte[], JsonNode)}.
     */
    public record Routing(String target, JsonNode canonical) {
        static final Routing UNKNOWN = new Routing(null, null);
    }

    /**
     * The target of an event from its legal entity and posting date alone: an entity without an S/4HANA cut-over
     * date posts to the legacy ERP; one with a cut-over date by the posting date (the document's date of issue, or the
     * event's day for what happens to a document later), which needs the event's data read but not the posting rules
     * applied. Each target's consumers read every event: this is how one passes the other's events by, where mapping
     * each event to pass it by was a seventh of the posting path's CPU. A loyalty transaction of an entity filed daily
     * is routed the same way, to the target whose consumers record it for its day's filing.
     */
    public Routing route(Envelope envelope, byte[] data) {
        LegalEntity entity;
        try {
            entity = entityOf(envelope, true).orElse(null);
        } catch (PermanentFailure e) {
            return Routing.UNKNOWN; // mapping it says why
        }
        if (entity == null) return Routing.UNKNOWN;
        if (entity.s4CutoverDate() == null) return new Routing(LegalEntity.LEGACY, null);
        JsonNode canonical;
        try {
            canonical = JSON.readTree(data);
        } catch (IOException e) {
            return Routing.UNKNOWN;
        }
        if (canonical == null || !canonical.isObject()) return Routing.UNKNOWN;
        try {
            return new Routing(entity.erpTargetOn(postingDate(canonical, envelope, entity)), canonical);
        } catch (RuntimeException e) {
            return new Routing(null, canonical);
        }
    }

    public ErpConnector connectorFor(LedgerPosting posting) {
        ErpConnector c = connectors.get(posting.erpTarget());
        if (c == null) {
            throw new PermanentFailure("no ERP connector for target " + posting.erpTarget());
        }
        return c;
    }

    /** A confirmation recorded earlier for this posting (a replay or redelivery after the ERP already posted). */
    public Optional<ErpConfirmations.Confirmation> existing(LedgerPosting posting) {
        return confirmations.find(postingKey(posting.sourceEventId()));
    }

    /** Confirmations recorded earlier for any of these postings, by posting key (one query per 200 postings). */
    public Map<String, ErpConfirmations.Confirmation> existingAll(List<LedgerPosting> postings) {
        List<String> keys = new ArrayList<>(postings.size());
        for (LedgerPosting p : postings) keys.add(postingKey(p.sourceEventId()));
        return confirmations.findAll(keys);
    }

    /** Records the ERP's answer; the first record for a posting wins. */
    public ErpConfirmations.Confirmation record(LedgerPosting posting, ErpConnector.ErpAnswer answer, String correlationId) {
        var c = confirmation(posting, answer, correlationId);
        confirmations.record(c);
        return confirmations.find(c.postingKey()).orElse(c);
    }

    /**
     * Records the ERP's answers in one transaction (lists in the same order); the first record for a posting wins,
     * and where an earlier one exists it is what is returned.
     */
    public List<ErpConfirmations.Confirmation> recordAll(List<LedgerPosting> postings, List<ErpConnector.ErpAnswer> answers,
                                                         List<String> correlationIds) {
        List<ErpConfirmations.Confirmation> all = new ArrayList<>(postings.size());
        for (int i = 0; i < postings.size(); i++) {
            all.add(confirmation(postings.get(i), answers.get(i), correlationIds.get(i)));
        }
        boolean[] added = confirmations.recordAll(all);
        for (int i = 0; i < all.size(); i++) {
            if (!added[i]) all.set(i, confirmations.find(all.get(i).postingKey()).orElse(all.get(i)));
        }
        return all;
    }

    private static ErpConfirmations.Confirmation confirmation(LedgerPosting posting, ErpConnector.ErpAnswer answer,
                                                              String correlationId) {
        return new ErpConfirmations.Confirmation(postingKey(posting.sourceEventId()), posting.sourceEventId(),
                posting.legalEntity(), posting.erpTarget(),
                answer.companyCode() == null ? posting.companyCode() : answer.companyCode(),
                answer.accountingDocument(), answer.fiscalYear() == null ? posting.postingDate().substring(0, 4) : answer.fiscalYear(),
                correlationId, null);
    }

    /**
     * Writes the ledger topic's record of a confirmed posting into {@code m}: CloudEvents headers of a
     * {@code ledger.posted} event, key = the source event's subject (the customer), body = the confirmation JSON.
     */
    public static void confirmationRecord(LedgerPosting p, Envelope source, ErpConfirmations.Confirmation c, Message m) {
        m.getHeaders().clear();
        CanonicalType type = CanonicalType.LEDGER_POSTED;
        CloudEventHeaders.write(new Envelope(p.postingId(), "/interchange/ledger", type.ceType(), source.subject(),
                Instant.now().toString(), type.dataSchema(), source.correlationId(), p.legalEntity()), m);
        m.setHeader(KafkaConstants.KEY, source.subject());
        try {
            m.setBody(JSON.writeValueAsBytes(event(p, c)));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("confirmation of " + p.postingId() + " could not be written as JSON", e);
        }
    }

    public static LedgerConfirmation event(LedgerPosting posting, ErpConfirmations.Confirmation c) {
        return new LedgerConfirmation(posting.postingId(), posting.sourceEventId(), posting.legalEntity(),
                c.erpTarget(), c.companyCode(), c.accountingDocument(), c.fiscalYear());
    }

    /** The date of the source event (when an invoice was voided or written off) in the entity's zone, or null. */
    private static String eventDate(Envelope envelope, LegalEntity entity) {
        try {
            return Instant.parse(envelope.time()).atZone(entity.timeZone()).toLocalDate().toString();
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * Events that happen to a document after its issue (a void, a write-off, an overpayment): posted on the event's
     * day, as the posting rules date them, not on the document's.
     */
    private static final java.util.Set<String> DATED_BY_EVENT = java.util.Set.of(
            CanonicalType.INVOICE_VOIDED.ceType(), CanonicalType.INVOICE_UNCOLLECTIBLE.ceType(),
            CanonicalType.INVOICE_OVERPAID.ceType(), CanonicalType.CREDIT_NOTE_VOIDED.ceType());

    /** Documents post on their date of issue, events that happen to them later on their own day. */
    private static LocalDate postingDate(JsonNode canonical, Envelope envelope, LegalEntity entity) {
        boolean later = DATED_BY_EVENT.contains(envelope.type());
        String date = later ? String.valueOf(eventDate(envelope, entity))
                : canonical.path("issuedOn").asText(canonical.path("occurredOn").asText(
                        canonical.path("filingDate").asText("")));
        try {
            return LocalDate.parse(date);
        } catch (DateTimeParseException e) {
            try {
                return LocalDate.parse(envelope.time().substring(0, 10));
            } catch (RuntimeException e2) {
                throw new PermanentFailure("canonical event " + envelope.id() + " has no posting date");
            }
        }
    }
}
