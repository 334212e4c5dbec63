package io.interchange.reconciliation;

import com.fasterxml.jackson.databind.JsonNode;
import io.interchange.config.Config;
import io.interchange.config.Settings;
import io.interchange.connectors.billing.StripeApi;
import io.interchange.connectors.crm.HubSpotCrm;
import io.interchange.connectors.crm.SalesforceReader;
import io.interchange.connectors.erp.ErpAccess;
import io.interchange.customer.ErpPartners;
import io.interchange.mapping.LegalEntity;
import io.interchange.store.CrossReferences;
import io.interchange.store.CustomerFields;
import io.interchange.store.ReconciliationRuns;
import io.interchange.store.ReconciliationRuns.Kind;

import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * CRM customers against billing customers and ERP business partners, per legal entity: each system's customer records
 * read from the system ({@link CustomerSides}), keyed by the global customer the cross-reference links them to (or
 * {@code UNLINKED|<system>|<id>}), their master data normalised and kept on the record (its detail, as compact JSON:
 * the fields are small, so the run's record table needs no column of its own), then compared key by key: UNLINKED,
 * MISSING_IN_CRM / _BILLING / _ERP, DUPLICATE (two records of one system for one customer), DATA_DIFFERENCE (a
 * field, both values, the owning system's the reference). Nothing is corrected.
 *
 * <p>The period. Master data has no date of its own and no system's read API gives its past values, so a run compares
 * each system's records as they are now, of the customers created up to the period's end: a record created before the
 * end is in the period; one created in the margin after it ({@code interchange.reconciliation.margin}) is read too, so
 * that a customer the CRM made just before the end and the sync took to billing or the ERP just after is matched
 * rather than reported missing; a customer whose every record was created after the end is another period's. The
 * period's start does not bound it: a customer made before it is still a customer of the entity in it. A record whose
 * system gives no creation date counts as in the period.
 *
 * <p>The ERP side is the ERP that keeps the entity's customers on the period's last day (the legal-entity table's
 * cut-over date decides, as for the sync): S/4HANA's business partners, or the legacy ERP's customers. After the
 * cut-over, the legacy ERP's customers are read too (where it is configured): the sync gives a customer its S/4HANA
 * partner at its first change after the cut-over, so a customer unchanged since is still only at the legacy ERP, and
 * is at the ERP; a customer with a partner is compared by the partner, its legacy record left alone.
 *
 * <p>Dates are the entity's: the period's end is its midnight, and a record's creation date its calendar date.
 */
public final class CustomersComparison implements Comparison {

    public static final String NAME = "customers";
    private static final List<Side> SIDES = List.of(new Side(ReconciliationRuns.CRM, "CRM"),
            new Side(ReconciliationRuns.BILLING, "billing"), new Side(ReconciliationRuns.ERP, "ERP partners"));
    private static final Set<Kind> KINDS = EnumSet.of(Kind.UNLINKED, Kind.MISSING_IN_CRM, Kind.MISSING_IN_BILLING,
            Kind.MISSING_IN_ERP, Kind.DUPLICATE, Kind.DATA_DIFFERENCE);

    private final ReconciliationRuns runs;
    private final CustomerSides sides;
    private final StripeApi stripe;
    private final String apiVersion;
    private final boolean salesforce;
    private final HubSpotCrm hubSpot;
    private final ErpAccess erp;
    /** The sides each run read, by run id, for its comparison (a side not read is not missing anything). */
    private final Map<Long, List<String>> read = new ConcurrentHashMap<>();

    /**
     * @param salesforce whether Salesforce is configured (camel-salesforce bound as {@code salesforce})
     * @param hubSpot    HubSpot's client, or null when HubSpot is not configured
     */
    public CustomersComparison(Config config, ReconciliationRuns runs, CrossReferences crossReferences,
                               CustomerFields customerFields, StripeApi stripe, boolean salesforce, HubSpotCrm hubSpot,
                               ErpAccess erp) {
        this.runs = runs;
        this.sides = new CustomerSides(crossReferences, customerFields);
        this.stripe = stripe;
        String version = config.get(Settings.RECONCILIATION_API_VERSION);
        if (version.isBlank()) version = config.get(Settings.BILLING_API_VERSION);
        this.apiVersion = version.isBlank() ? BillingErpComparison.NEWEST_API_VERSION : version;
        this.salesforce = salesforce;
        this.hubSpot = hubSpot != null && hubSpot.client().enabled() ? hubSpot : null;
        this.erp = erp;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "CRM customers against billing customers and ERP business partners (links, duplicates, master data)";
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
            case MISSING_IN_ERP -> "a customer with records in the CRM or billing, none at the ERP";
            case MISSING_IN_BILLING -> "a customer with records in the CRM or at the ERP, none in billing";
            case DUPLICATE -> "one system holds two records of one customer";
            default -> kind.meaning();
        };
    }

    @Override
    public String unavailable() {
        if (!salesforce && hubSpot == null) {
            return "no CRM is configured (Salesforce's connected app or HubSpot's API), and customers are read from it";
        }
        return null;
    }

    @Override
    public Counts read(Reading reading) {
        LegalEntity entity = reading.entity();
        // the period's days are the entity's, as its documents' are
        Instant before = reading.readTo().atStartOfDay(entity.timeZone()).toInstant();
        LocalDate end = reading.to();
        List<String> sidesRead = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        long[] counts = new long[3];
        try (ReconciliationRuns.Spool spool = reading.spool()) {
            Progress progress = reading.progress("crm");
            if (salesforce) {
                SalesforceReader reader = new SalesforceReader(reading.template(), Map.of("Account",
                        CustomerSides.ACCOUNT_FIELDS));
                counts[0] += sides.crm(reader, entity, before, r -> add(spool, ReconciliationRuns.CRM, r, end, progress));
            }
            if (hubSpot != null) {
                counts[0] += sides.hubSpot(hubSpot, entity, before, r -> add(spool, ReconciliationRuns.CRM, r, end, progress));
            }
            progress.done();
            sidesRead.add("CRM");
        }
        if (stripe.enabled()) {
            try (ReconciliationRuns.Spool spool = reading.spool()) {
                Progress progress = reading.progress("billing");
                long[] b = sides.billing(stripe, apiVersion, entity, before,
                        r -> add(spool, ReconciliationRuns.BILLING, r, end, progress));
                progress.done();
                counts[1] = b[0];
                if (b[1] > 0) notes.add(b[1] + " billing customer(s) of no legal entity (none in their metadata, none "
                        + "recorded for their customer): in no entity's run");
                sidesRead.add("BILLING");
            }
        } else {
            notes.add("billing not read: its API is not configured");
        }
        if (erp != null) {
            // the ERP that keeps the entity's customers on the period's last day (its cut-over date decides); after
            // the cut-over, the legacy ERP's too: the sync gives a customer its S/4HANA partner at its first change
            // after the cut-over, so those unchanged since are still only at the legacy ERP (see compareKey)
            String target = entity.erpTargetOn(end.minusDays(1));
            boolean legacyToo = LegalEntity.S4HANA.equals(target) && entity.s4CutoverDate() != null
                    && erp.serves(LegalEntity.LEGACY);
            try (ReconciliationRuns.Spool spool = reading.spool()) {
                Progress progress = reading.progress("erp");
                Consumer<CustomerMaster.Record> sink = r -> add(spool, ReconciliationRuns.ERP, r, end, progress);
                counts[2] = sides.erp(erp, reading.template(), target, entity, reading.readTo(), sink);
                if (legacyToo) {
                    counts[2] += sides.erp(erp, reading.template(), LegalEntity.LEGACY, entity, reading.readTo(), sink);
                }
                progress.done();
                sidesRead.add("ERP");
            }
        } else {
            notes.add("ERP not read: no ERP is configured");
        }
        read.put(reading.runId(), List.copyOf(sidesRead));
        return new Counts(counts, 0, notes.isEmpty() ? null : String.join("; ", notes));
    }

    private static void add(ReconciliationRuns.Spool spool, String side, CustomerMaster.Record r, LocalDate end,
                            Runnable progress) {
        progress.run();
        spool.add(new ReconciliationRuns.Record(side, r.key(), r.system(), r.recordId(), null, null, null, null,
                r.createdOn(), r.createdOn() == null || r.createdOn().isBefore(end), r.masterData()));
    }

    /**
     * Key by key over the run's records in key order (one key's records held at a time): a key none of whose records
     * is in the period is left alone; the others' differences are recorded ({@link CustomerMaster#compare}), and a key
     * without any is matched.
     */
    @Override
    public ReconciliationRuns.Outcome compare(long runId) {
        List<String> sidesRead = read.remove(runId);
        if (sidesRead == null) sidesRead = List.of("CRM", "BILLING", "ERP");
        List<String> expected = sidesRead;
        long[] matched = {0};
        try (ReconciliationRuns.Differences out = runs.differences(runId)) {
            List<ReconciliationRuns.Record> group = new ArrayList<>();
            runs.eachRecordByKey(runId, List.of(ReconciliationRuns.CRM, ReconciliationRuns.BILLING, ReconciliationRuns.ERP), r -> {
                if (!group.isEmpty() && !group.get(0).key().equals(r.key())) {
                    compareKey(group, expected, out, matched);
                    group.clear();
                }
                group.add(r);
            });
            if (!group.isEmpty()) compareKey(group, expected, out, matched);
            return new ReconciliationRuns.Outcome(matched[0], out.counts());
        }
    }

    private static void compareKey(List<ReconciliationRuns.Record> group, List<String> expected,
                                   ReconciliationRuns.Differences out, long[] matched) {
        if (group.stream().noneMatch(ReconciliationRuns.Record::inPeriod)) return;
        if (group.stream().anyMatch(r -> r.kind().equals(ErpPartners.S4_SYSTEM))) {
            // a customer with its S/4HANA partner: the legacy ERP's record is the one from before the cut-over, which
            // the sync no longer writes (its values may be older); the customer's ERP record is the partner
            group = group.stream().filter(r -> !r.kind().equals(ErpPartners.LEGACY_SYSTEM)).toList();
        }
        String key = group.get(0).key();
        List<CustomerMaster.Record> records = group.stream().map(r -> new CustomerMaster.Record(r.kind(), r.recordId(),
                key.startsWith(CustomerMaster.UNLINKED + "|") ? null : key, r.occurredOn(),
                CustomerMaster.fields(r.detail()))).toList();
        List<CustomerMaster.Found> found = CustomerMaster.compare(key, records, expected);
        if (found.isEmpty()) {
            matched[0]++;
            return;
        }
        for (CustomerMaster.Found f : found) {
            out.add(Kind.valueOf(f.kind()), f.system(), key, null, null, null, null, f.records().size(), 0, f.detail());
        }
    }
}
