package io.interchange.reconciliation;

import io.interchange.config.Config;
import io.interchange.config.Settings;
import io.interchange.connectors.erp.ErpAccess;
import io.interchange.connectors.loyalty.LoyaltyPoints;
import io.interchange.connectors.loyalty.LoyaltyValuation;
import io.interchange.mapping.LegalEntity;
import io.interchange.mapping.MappingEngine;
import io.interchange.store.ReconciliationRuns;
import io.interchange.store.ReconciliationRuns.Kind;

import java.time.LocalDate;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The loyalty points liability against the ERP ledger, per legal entity: every transaction of the loyalty program the
 * platform holds for the entity ({@link LoyaltyPlatformTransactions}, read from the platform's own list of the
 * program's transactions and valued as the webhook edge values it) against the loyalty transactions on the entity's
 * ledger ({@link LoyaltyLedgerLines}: a real-time entry names one, a daily filing one per line pair), by transaction
 * ({@code LOYALTY|<transaction id>}), its signed change of the liability to the minor unit. A transaction posted both in
 * real time and in a filing, or in two filings, is a duplicate on the ERP side. Besides, the liability's change in the
 * period per currency and movement (earned, redeemed, expired, transferred) on each side, in points and money, is the
 * run's note.
 */
public final class LoyaltyErpComparison implements Comparison {

    public static final String NAME = "loyalty-erp";
    private static final List<Side> SIDES = List.of(new Side(ReconciliationRuns.LOYALTY, "loyalty platform"),
            new Side(ReconciliationRuns.ERP, "ERP ledger"));
    private static final Set<Kind> KINDS = EnumSet.of(Kind.MISSING_IN_ERP, Kind.MISSING_IN_LOYALTY,
            Kind.AMOUNT_DIFFERENCE, Kind.CURRENCY_DIFFERENCE, Kind.DUPLICATE);

    private final ReconciliationRuns runs;
    private final LoyaltyPoints points;
    private final String campaignId;
    private final LoyaltyPlatformTransactions platform;
    private final ErpLedger erp;
    private final MappingEngine mappings;
    private final Map<String, LoyaltyLedgerLines> linesByEntity = new ConcurrentHashMap<>();

    public LoyaltyErpComparison(Config config, ReconciliationRuns runs, ErpAccess access, LoyaltyPoints points,
                                LoyaltyValuation valuation, MappingEngine mappings) {
        this.runs = runs;
        this.points = points;
        this.campaignId = config.get(Settings.LOYALTY_CAMPAIGN_ID).strip();
        this.platform = new LoyaltyPlatformTransactions(points, valuation, campaignId,
                config.getInt(Settings.RECONCILIATION_LOYALTY_PAGE));
        this.erp = new ErpLedger(access, config.getInt(Settings.RECONCILIATION_ERP_PAGE));
        this.mappings = mappings;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "the loyalty platform's points transactions against the points liability on the ERP ledger";
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
            case MISSING_IN_ERP -> "on the loyalty platform, not in the ERP ledger";
            case DUPLICATE -> "the same transaction more than once on the ERP ledger";
            default -> kind.meaning();
        };
    }

    @Override
    public String unavailable() {
        if (!points.client().enabled()) {
            return "the loyalty platform's API is not configured (interchange.loyalty.app-id, -app-token), and the "
                    + "loyalty transactions are read from it";
        }
        return campaignId.isEmpty() ? "the loyalty program is not configured (interchange.loyalty.campaign-id), and its "
                + "transactions are read from it" : null;
    }

    @Override
    public Counts read(Reading reading) {
        // the platform and the ERP ledger are read at once, each into its own spool, as billing's comparison does
        long[] erpRecords = {0};
        try (Alongside<Map<String, Map<String, long[]>>> ledger = reading.alongside("erp",
                () -> readErp(reading, erpRecords))) {
            LoyaltyPlatformTransactions.Counts loyalty;
            try (ReconciliationRuns.Spool spool = reading.spool()) {
                Progress progress = reading.progress("loyalty");
                LegalEntity entity = reading.entity();
                loyalty = platform.read(entity.id(), entity.timeZone(), reading.readFrom(), reading.readTo(),
                        reading.from(), reading.to(), spool::add, progress);
                progress.done();
            }
            Map<String, Map<String, long[]>> erpTotals = ledger.result();
            StringBuilder note = new StringBuilder(liabilityNote(loyalty.totals, erpTotals));
            if (loyalty.unreadable > 0) {
                note.append("; ").append(loyalty.unreadable).append(" loyalty transaction(s) could not be valued (see "
                        + "the log)");
            }
            if (loyalty.zero > 0) {
                note.append("; ").append(loyalty.zero).append(" transaction(s) valued at 0, which post nothing, not "
                        + "compared");
            }
            return new Counts(new long[]{loyalty.kept, erpRecords[0]}, loyalty.unreadable, note.toString());
        }
    }

    /**
     * The loyalty transactions on the entity's ledger (the legacy ERP's before its cut-over, S/4HANA's from it) posted
     * in the read window, one record each; in period when posted within the period. Their totals in the period.
     */
    private Map<String, Map<String, long[]>> readErp(Reading reading, long[] records) {
        LegalEntity entity = reading.entity();
        LoyaltyLedgerLines lines = linesByEntity.computeIfAbsent(entity.id(), id -> LoyaltyLedgerLines.of(mappings, entity));
        Progress progress = reading.progress("erp");
        LocalDate from = reading.from();
        LocalDate to = reading.to();
        Map<String, Map<String, long[]>> totals = new TreeMap<>();
        String[] target = {null};
        try (ReconciliationRuns.Spool spool = reading.spool()) {
            LedgerDocuments.Grouper grouper = LedgerDocuments.Grouper.ofLines(document -> {
                for (LoyaltyLedgerLines.Line l : lines.transactions(document)) {
                    records[0]++;
                    progress.run();
                    boolean inPeriod = l.postingDate() != null && !l.postingDate().isBefore(from)
                            && l.postingDate().isBefore(to);
                    if (inPeriod) {
                        totals.computeIfAbsent(l.currency(), c -> new TreeMap<>())
                                .computeIfAbsent(l.movement(), m -> new long[2])[1] += l.amountMinor();
                    }
                    String how = l.transactionsInDocument() > 1
                            ? "filed with " + (l.transactionsInDocument() - 1) + " other transaction(s)" : "one entry";
                    spool.add(new ReconciliationRuns.Record(ReconciliationRuns.ERP,
                            LoyaltyPlatformTransactions.key(l.transactionId()), l.movement(), l.documentKey(),
                            l.documentKey(), l.reference(), l.currency(), l.amountMinor(), l.postingDate(), inPeriod,
                            target[0] + " " + (l.headerText() == null ? "" : l.headerText() + ", ") + how + ", member "
                                    + l.member()));
                }
            });
            erp.readItems(reading, (t, item) -> {
                if (!t.equals(target[0])) grouper.finish(); // a document never spans the two ledgers
                target[0] = t;
                grouper.add(item);
            });
            grouper.finish();
        }
        progress.done();
        return totals;
    }

    /**
     * The liability's change in the period per currency, on each side: each movement (points and money on the
     * platform, money on the ledger, which holds no points) and the net, earned less redeemed less expired, e.g.
     * {@code EUR liability: loyalty platform earned 1200 points 12.00, redeemed -300 points -3.00, net 900 points 9.00;
     * ERP ledger earned 12.00, redeemed -3.00, net 9.00}.
     */
    static String liabilityNote(Map<String, Map<String, long[]>> loyalty, Map<String, Map<String, long[]>> ledger) {
        Set<String> currencies = new TreeSet<>(loyalty.keySet());
        currencies.addAll(ledger.keySet());
        if (currencies.isEmpty()) return "no loyalty transactions in the period on either side";
        StringBuilder sb = new StringBuilder();
        for (String currency : currencies) {
            if (!sb.isEmpty()) sb.append("; ");
            sb.append(currency).append(" liability: loyalty platform ")
                    .append(movements(loyalty.getOrDefault(currency, Map.of()), currency, true))
                    .append("; ERP ledger ").append(movements(ledger.getOrDefault(currency, Map.of()), currency, false));
        }
        return sb.toString();
    }

    private static String movements(Map<String, long[]> byMovement, String currency, boolean withPoints) {
        StringBuilder sb = new StringBuilder();
        long points = 0;
        long minor = 0;
        for (Map.Entry<String, long[]> m : byMovement.entrySet()) {
            sb.append(m.getKey().toLowerCase(java.util.Locale.ROOT)).append(' ');
            if (withPoints) sb.append(m.getValue()[0]).append(" points ");
            sb.append(Money.format(m.getValue()[1], currency)).append(", ");
            points += m.getValue()[0];
            minor += m.getValue()[1];
        }
        sb.append("net ");
        if (withPoints) sb.append(points).append(" points ");
        return sb.append(Money.format(minor, currency)).toString();
    }

    /** The platform against the ledger by transaction. */
    @Override
    public ReconciliationRuns.Outcome compare(long runId) {
        return runs.compareByKey(runId, new ReconciliationRuns.Pair(ReconciliationRuns.LOYALTY, "the loyalty platform",
                Kind.MISSING_IN_LOYALTY, ReconciliationRuns.ERP, "the ERP ledger", Kind.MISSING_IN_ERP), false);
    }
}
