package io.interchange.reconciliation;

import io.interchange.config.Config;
import io.interchange.config.Settings;
import io.interchange.connectors.billing.BillingEventTranslator;
import io.interchange.connectors.billing.StripeApi;
import io.interchange.connectors.erp.ErpAccess;
import io.interchange.mapping.LegalEntity;
import io.interchange.store.ErpConfirmations;
import io.interchange.store.ReconciliationRuns;
import io.interchange.store.ReconciliationRuns.Kind;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Billing against the ERP ledger and our confirmations: the billing platform's documents (Stripe's list APIs,
 * {@link BillingDocuments}) against the ERP ledger's documents ({@link ErpLedger}) by billing document, counts and
 * amounts to the minor unit per currency; and the ERP ledger against the confirmations the ledger flow recorded, by ERP
 * document (a posting the runtime never heard confirmed, a confirmation of a posting the ledger does not hold).
 */
public final class BillingErpComparison implements Comparison {

    public static final String NAME = "billing-erp";
    /** The API version objects are read in when none is configured: the newest the runtime knows. */
    static final String NEWEST_API_VERSION = "2026-07-29.dahlia";
    /** ERP documents whose confirmations are looked up at a time. */
    private static final int CONFIRMATION_LOOKUP = 200;
    private static final List<Side> SIDES = List.of(new Side(ReconciliationRuns.BILLING, "billing"),
            new Side(ReconciliationRuns.ERP, "ERP ledger"), new Side(ReconciliationRuns.OURS, "confirmations"));
    private static final Set<Kind> KINDS = EnumSet.of(Kind.MISSING_IN_ERP, Kind.MISSING_IN_BILLING,
            Kind.AMOUNT_DIFFERENCE, Kind.CURRENCY_DIFFERENCE, Kind.DUPLICATE, Kind.CONFIRMATION_MISSING,
            Kind.CONFIRMATION_WITHOUT_POSTING);

    private final ReconciliationRuns runs;
    private final ErpConfirmations confirmations;
    private final StripeApi api;
    private final BillingDocuments billing;
    private final ErpLedger erp;

    public BillingErpComparison(Config config, ReconciliationRuns runs, ErpConfirmations confirmations, StripeApi api,
                                BillingEventTranslator translator, ErpAccess access) {
        this.runs = runs;
        this.confirmations = confirmations;
        this.api = api;
        String version = config.get(Settings.RECONCILIATION_API_VERSION);
        if (version.isBlank()) version = config.get(Settings.BILLING_API_VERSION);
        if (version.isBlank()) version = NEWEST_API_VERSION;
        if (translator.shape(version) == null) {
            throw new IllegalArgumentException(Settings.RECONCILIATION_API_VERSION.key() + ": Stripe API version "
                    + version + " is not in mappings/stripe/api-versions.csv");
        }
        this.billing = new BillingDocuments(api, translator, translator.references(), version,
                config.getInt(Settings.RECONCILIATION_BILLING_PAGE));
        this.erp = new ErpLedger(access, config.getInt(Settings.RECONCILIATION_ERP_PAGE));
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "billing against the ERP ledger and our confirmations";
    }

    @Override
    public List<Side> sides() {
        return SIDES;
    }

    @Override
    public Set<Kind> kinds() {
        return KINDS;
    }

    @Override
    public String meaning(Kind kind) {
        return switch (kind) {
            case MISSING_IN_ERP -> "in billing, not in the ERP ledger";
            case MISSING_IN_BILLING -> "in the ERP ledger, not in billing";
            default -> kind.meaning();
        };
    }

    @Override
    public String unavailable() {
        return api.enabled() ? null : "the billing platform's API is not configured (interchange.billing.api-key), "
                + "and billing is read from it";
    }

    @Override
    public Counts read(Reading reading) {
        long runId = reading.runId();
        LegalEntity entity = reading.entity();
        LocalDate readFrom = reading.readFrom();
        LocalDate readTo = reading.readTo();
        // billing on this thread; the ERP ledger at once beside it, then our confirmations (those of the documents the
        // ledger holds are looked up among its records): each side into its own spool
        try (Alongside<long[]> ledgerAndOurs = reading.alongside("erp", () -> {
            long erpRecords = erp.readEntity(reading, "erp");
            try (ReconciliationRuns.Spool spool = reading.spool()) {
                return new long[]{erpRecords, readConfirmations(reading, spool)};
            }
        })) {
            BillingDocuments.Counts b;
            try (ReconciliationRuns.Spool spool = reading.spool()) {
                Progress billingProgress = reading.progress("billing");
                b = billing.read(entity.id(), entity.timeZone(), readFrom, readTo, reading.from(), reading.to(),
                        spool::add, billingProgress);
                billingProgress.done();
            }
            long[] read = ledgerAndOurs.result();
            return new Counts(new long[]{b.kept, read[0], read[1]}, b.unreadable, b.unreadable > 0
                    ? b.unreadable + " billing object(s) could not be translated (see the log)" : null);
        }
    }

    /**
     * Our side: the confirmations recorded in the period and its margin (for those without a posting), and those of the
     * ERP documents read, whenever recorded (a day's postings are confirmed when the ledger flow gets to them, which
     * after an outage or a replay may be days later). The number read.
     */
    private long readConfirmations(Reading reading, ReconciliationRuns.Spool spool) {
        Progress oursProgress = reading.progress("confirmations");
        ZoneId zone = reading.entity().timeZone();
        LocalDate from = reading.from();
        LocalDate to = reading.to();
        Instant windowFrom = reading.readFrom().atStartOfDay(zone).toInstant();
        Instant windowTo = reading.readTo().atStartOfDay(zone).toInstant();
        long n = confirmations.eachRecorded(reading.entity().id(), windowFrom, windowTo, c -> {
            oursProgress.run();
            spool.add(confirmation(c, zone, from, to));
        });
        String after = null;
        while (true) {
            List<String> documents = runs.erpDocuments(reading.runId(), after, CONFIRMATION_LOOKUP);
            if (documents.isEmpty()) break;
            for (ErpConfirmations.Confirmation c : confirmations.findByDocuments(documents)) {
                if (!c.createdAt().isBefore(windowFrom) && c.createdAt().isBefore(windowTo)) continue; // read above
                oursProgress.run();
                spool.add(confirmation(c, zone, from, to));
                n++;
            }
            after = documents.get(documents.size() - 1);
        }
        oursProgress.done();
        return n;
    }

    /** A confirmation as a record of our side, keyed by the ERP document it names; in period when recorded in it. */
    private static ReconciliationRuns.Record confirmation(ErpConfirmations.Confirmation c, ZoneId zone, LocalDate from,
                                                          LocalDate to) {
        String document = c.companyCode() + "/" + c.fiscalYear() + "/" + c.accountingDocument();
        LocalDate recorded = c.createdAt().atZone(zone).toLocalDate();
        return new ReconciliationRuns.Record(ReconciliationRuns.OURS, document, "CONFIRMATION", c.postingKey(), document,
                c.correlationId(), null, null, recorded, !recorded.isBefore(from) && recorded.isBefore(to),
                c.erpTarget() + " confirmation of event " + c.eventId());
    }

    /**
     * Billing against the ERP ledger by billing document (the ERP's documents that are not billing documents are left
     * to the second pass), then the ERP ledger against our confirmations by ERP document.
     */
    @Override
    public ReconciliationRuns.Outcome compare(long runId) {
        return runs.compareByKey(runId, new ReconciliationRuns.Pair(ReconciliationRuns.BILLING, "billing",
                Kind.MISSING_IN_BILLING, ReconciliationRuns.ERP, "the ERP ledger", Kind.MISSING_IN_ERP), true);
    }
}
