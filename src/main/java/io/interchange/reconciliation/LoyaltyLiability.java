package io.interchange.reconciliation;

import io.interchange.mapping.LegalEntity;
import io.interchange.mapping.MappingEngine;
import io.interchange.store.ReconciliationRuns;
import org.apache.camel.ProducerTemplate;

import java.time.LocalDate;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The two sides of the points liability of one legal entity: the loyalty platform's transactions
 * ({@link LoyaltyPlatformTransactions}) and the loyalty line pairs of the entity's ERP ledger ({@link LoyaltyLedgerLines}),
 * each a record per transaction under one key, {@code LOYALTY|<transaction id>}, its amount the signed change of the
 * liability in minor units. A real-time entry and a day's filing both name each transaction in the liability line's
 * text, so a transaction posted both ways is two ERP records of one key: a duplicate. Besides the records, each side's
 * liability in the period per currency and movement (earned, redeemed, expired, transferred), in points where the side
 * has them (the platform) and in money.
 */
final class LoyaltyLiability {

    /** The movements whose sum is the liability's change: earned less redeemed less expired (and transfers). */
    static final String[] MOVEMENTS = {"EARNED", "REDEEMED", "EXPIRED", "TRANSFERRED"};

    /** One side's liability in the period: currency -> movement -> {points, minor units} (points 0 on the ERP). */
    record Totals(Map<String, Map<String, long[]>> byCurrency) {
        /** The liability's change in the period in minor units of {@code currency}: the sum over movements. */
        long netMinor(String currency) {
            return byCurrency.getOrDefault(currency, Map.of()).values().stream().mapToLong(v -> v[1]).sum();
        }

        long netPoints(String currency) {
            return byCurrency.getOrDefault(currency, Map.of()).values().stream().mapToLong(v -> v[0]).sum();
        }
    }

    /** What the loyalty side read. */
    record LoyaltyRead(long records, long unreadable, long zero, Totals totals) {
    }

    /** What the ERP side read. */
    record ErpRead(long documents, long records, Totals totals) {
    }

    private final LoyaltyPlatformTransactions platform;
    private final ErpLedger ledger;
    private final MappingEngine mappings;
    private final Map<String, LoyaltyLedgerLines> linesByEntity = new ConcurrentHashMap<>();

    LoyaltyLiability(LoyaltyPlatformTransactions platform, ErpLedger ledger, MappingEngine mappings) {
        this.platform = platform;
        this.ledger = ledger;
        this.mappings = mappings;
    }

    /** The platform's transactions of {@code entity} made in the read window, valued, into {@code sink}. */
    LoyaltyRead readLoyalty(LegalEntity entity, LocalDate readFrom, LocalDate readTo, LocalDate from, LocalDate to,
                            Consumer<ReconciliationRuns.Record> sink, Runnable progress) {
        LoyaltyPlatformTransactions.Counts c = platform.read(entity.id(), entity.timeZone(), readFrom, readTo, from, to,
                sink, progress);
        return new LoyaltyRead(c.kept, c.unreadable, c.zero, new Totals(c.totals));
    }

    /**
     * The loyalty transactions on {@code entity}'s ledger (the legacy ERP's before its cut-over, S/4HANA's from it)
     * posted in the read window, one record each, into {@code sink}; in period when posted within {@code [from, to)}.
     */
    ErpRead readErp(ProducerTemplate template, LegalEntity entity, LocalDate readFrom, LocalDate readTo, LocalDate from,
                    LocalDate to, Consumer<ReconciliationRuns.Record> sink, Runnable progress) {
        LoyaltyLedgerLines lines = linesByEntity.computeIfAbsent(entity.id(), id -> LoyaltyLedgerLines.of(mappings, entity));
        long[] counts = new long[2]; // documents, records
        Map<String, Map<String, long[]>> totals = new TreeMap<>();
        for (ErpLedger.Stretch s : ErpLedger.stretches(entity, readFrom, readTo)) {
            counts[0] += ledger.readDocuments(template, s.target(), s.companyCode(), s.from(), s.to(), document -> {
                for (LoyaltyLedgerLines.Line l : lines.transactions(document)) {
                    counts[1]++;
                    progress.run();
                    boolean inPeriod = l.postingDate() != null && !l.postingDate().isBefore(from)
                            && l.postingDate().isBefore(to);
                    if (inPeriod) {
                        totals.computeIfAbsent(l.currency(), c -> new TreeMap<>())
                                .computeIfAbsent(l.movement(), m -> new long[2])[1] += l.amountMinor();
                    }
                    String how = l.transactionsInDocument() > 1
                            ? "filed with " + (l.transactionsInDocument() - 1) + " other transaction(s)" : "one entry";
                    sink.accept(new ReconciliationRuns.Record(ReconciliationRuns.ERP,
                            LoyaltyPlatformTransactions.key(l.transactionId()), l.movement(), l.documentKey(),
                            l.documentKey(), l.reference(), l.currency(), l.amountMinor(), l.postingDate(), inPeriod,
                            s.target() + " " + (l.headerText() == null ? "" : l.headerText() + ", ") + how
                                    + ", member " + l.member()));
                }
            });
        }
        return new ErpRead(counts[0], counts[1], new Totals(totals));
    }
}
