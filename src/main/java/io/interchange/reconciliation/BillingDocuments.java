package io.interchange.reconciliation;

import com.fasterxml.jackson.databind.JsonNode;
import io.interchange.connectors.billing.BillingEventTranslator;
import io.interchange.connectors.billing.StripeApi;
import io.interchange.model.CreditMemo;
import io.interchange.model.Invoice;
import io.interchange.model.Payment;
import io.interchange.model.Refund;
import io.interchange.reliability.TransientFailure;
import io.interchange.store.BillingReferences;
import io.interchange.store.ReconciliationRuns;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.LocalDate;
import java.time.ZoneId;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The billing side of a run, read from the billing platform itself (Stripe's list APIs, by {@code created}, page by
 * page): each invoice, payment, refund and credit note that the ledger posts, as the billing document it would be
 * posted as. Each object goes through the billing edge's own translation ({@link BillingEventTranslator#translateListed}:
 * the normaliser of the API version, the legal-entity chain, the canonical mapping), so it gets the legal entity, the
 * reference and the date the posting got, and only the entity's documents are kept.
 *
 * <p>Which objects: invoices once finalized (status open, paid, uncollectible or void); payments as InvoicePayments
 * with status paid from the basil API versions on, as paid invoices before (where {@code invoice.paid} carried the
 * money); every refund (one that failed later was posted, then reversed); every credit note.
 */
final class BillingDocuments {

    private static final Logger LOG = LoggerFactory.getLogger(BillingDocuments.class);
    private static final Set<String> FINALIZED = Set.of("open", "paid", "uncollectible", "void");

    /** What was read: records of the entity, and objects that could not be translated (logged, counted). */
    static final class Counts {
        long read;
        long kept;
        long unreadable;
    }

    private final StripeApi api;
    private final BillingReferences references;
    private final BillingEventTranslator translator;
    private final String apiVersion;
    private final int pageSize;

    BillingDocuments(StripeApi api, BillingEventTranslator translator, BillingReferences references, String apiVersion,
                     int pageSize) {
        this.api = api;
        this.references = references;
        this.translator = translator;
        this.apiVersion = apiVersion;
        this.pageSize = pageSize;
    }

    /**
     * Reads the objects created from {@code readFrom} up to {@code readTo} (dates in {@code zone}) and hands the
     * documents of {@code entity} to {@code sink}, in period when dated (as the posting is) within {@code [from, to)}.
     */
    Counts read(String entity, ZoneId zone, LocalDate readFrom, LocalDate readTo, LocalDate from, LocalDate to,
                Consumer<ReconciliationRuns.Record> sink, Runnable progress) {
        long gte = readFrom.atStartOfDay(zone).toEpochSecond();
        long lt = readTo.atStartOfDay(zone).toEpochSecond();
        boolean basil = "basil".equals(translator.shape(apiVersion));
        Counts counts = new Counts();
        api.listCreatedPages("/v1/invoices", gte, lt, apiVersion, pageSize, page -> {
            References refs = references(page);
            for (JsonNode invoice : page) {
                if (!FINALIZED.contains(invoice.path("status").asText())) continue;
                take(invoice, "invoice.finalized", entity, from, to, sink, counts, progress, refs);
                if (!basil && "paid".equals(invoice.path("status").asText())) {
                    take(invoice, "invoice.paid", entity, from, to, sink, counts, progress, refs);
                }
            }
        });
        if (basil) {
            api.listCreatedPages("/v1/invoice_payments", gte, lt, apiVersion, pageSize, page -> {
                References refs = references(page);
                for (JsonNode payment : page) {
                    if ("paid".equals(payment.path("status").asText())) {
                        take(payment, "invoice_payment.paid", entity, from, to, sink, counts, progress, refs);
                    }
                }
            });
        }
        api.listCreatedPages("/v1/refunds", gte, lt, apiVersion, pageSize, page -> {
            References refs = references(page);
            for (JsonNode refund : page) take(refund, "refund.created", entity, from, to, sink, counts, progress, refs);
        });
        api.listCreatedPages("/v1/credit_notes", gte, lt, apiVersion, pageSize, page -> {
            References refs = references(page);
            for (JsonNode note : page) take(note, "credit_note.created", entity, from, to, sink, counts, progress, refs);
        });
        return counts;
    }

    /**
     * What the billing edge recorded of a page's objects and the objects they belong to (the ids a listed object names:
     * its own, its invoice, its charge, its PaymentIntent), fetched in one query for the page: the translation looks
     * each object's record up, and a million objects one query each would be most of a run.
     */
    private References references(List<JsonNode> page) {
        Set<String> ids = new HashSet<>();
        for (JsonNode object : page) {
            for (String field : RELATED_IDS) {
                JsonNode id = object.path(field);
                if (id.isTextual()) ids.add(id.asText());
            }
        }
        return new References(ids, references == null ? Map.of() : references.findAll(ids));
    }

    /** The fields of a listed object that name an object whose record the translation may look up. */
    private static final List<String> RELATED_IDS = List.of("id", "invoice", "charge", "payment_intent");

    /** Records fetched for a page; an id not asked for (a field named otherwise) is looked up in the store. */
    private final class References implements Function<String, Optional<BillingReferences.Reference>> {
        private final Set<String> asked;
        private final Map<String, BillingReferences.Reference> found;

        References(Set<String> asked, Map<String, BillingReferences.Reference> found) {
            this.asked = asked;
            this.found = found;
        }

        @Override
        public Optional<BillingReferences.Reference> apply(String id) {
            if (asked.contains(id) || references == null) return Optional.ofNullable(found.get(id));
            return references.find(id);
        }
    }

    private void take(JsonNode object, String type, String entity, LocalDate from, LocalDate to,
                      Consumer<ReconciliationRuns.Record> sink, Counts counts, Runnable progress, References refs) {
        counts.read++;
        progress.run();
        BillingEventTranslator.Translated t;
        try {
            t = translator.translateListed(object, type, apiVersion, refs);
        } catch (TransientFailure e) {
            throw e;
        } catch (RuntimeException e) {
            counts.unreadable++;
            if (counts.unreadable <= 10) {
                LOG.warn("Reconciliation: billing {} {} not compared: {}", object.path("object").asText(),
                        object.path("id").asText(), e.getMessage());
            }
            return;
        }
        if (!entity.equals(t.envelope().legalEntity())) return;
        ReconciliationRuns.Record record = record(t, object.path("id").asText());
        if (record == null) return;
        LocalDate date = record.occurredOn();
        sink.accept(new ReconciliationRuns.Record(record.side(), record.key(), record.kind(), record.recordId(),
                null, record.correlationId(), record.currency(), record.amountMinor(), date,
                date != null && !date.isBefore(from) && date.isBefore(to), record.detail()));
        counts.kept++;
    }

    /** The billing document a canonical object is posted as, its amount as the anchor line of its posting has it. */
    private static ReconciliationRuns.Record record(BillingEventTranslator.Translated t, String objectId) {
        Object c = t.canonical();
        String customer = t.envelope().subject();
        if (c instanceof Invoice i) {
            if (i.totalMinor() == 0) return null; // nothing is receivable: no anchor line
            return billing(LedgerDocuments.INVOICE, i.number(), objectId, i.currency(), Math.abs(i.totalMinor()),
                    i.issuedOn(), "invoice " + i.invoiceId() + ", customer " + customer);
        }
        if (c instanceof Payment p) {
            if (!Payment.SUCCEEDED.equals(p.status()) || p.amountMinor() == 0) return null;
            return billing(LedgerDocuments.PAYMENT, p.paymentId(), objectId, p.currency(), p.amountMinor(),
                    p.occurredOn(), "payment of invoice " + p.invoiceNumber() + ", customer " + customer);
        }
        if (c instanceof Refund r) {
            if (r.amountMinor() == 0) return null;
            return billing(LedgerDocuments.REFUND, r.refundId(), objectId, r.currency(), r.amountMinor(), r.occurredOn(),
                    "refund of " + r.paymentId() + ", customer " + customer);
        }
        if (c instanceof CreditMemo m) {
            long net = m.subtotalMinor() - m.inclusiveTaxMinor();
            if (net == 0) return null;
            return billing(LedgerDocuments.CREDIT_NOTE, m.number(), objectId, m.currency(), Math.abs(net), m.issuedOn(),
                    "credit note " + m.creditNoteId() + " of invoice " + m.invoiceNumber() + ", customer " + customer);
        }
        return null;
    }

    private static ReconciliationRuns.Record billing(String kind, String reference, String objectId, String currency,
                                                     long amountMinor, String date, String detail) {
        return new ReconciliationRuns.Record(ReconciliationRuns.BILLING, LedgerDocuments.key(kind, reference), kind,
                objectId, null, objectId, currency, amountMinor, date == null ? null : LocalDate.parse(date), false,
                detail);
    }
}
