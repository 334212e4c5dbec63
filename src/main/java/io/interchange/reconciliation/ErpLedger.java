package io.interchange.reconciliation;

import io.interchange.connectors.erp.ErpAccess;
import io.interchange.connectors.erp.ErpConnector;
import io.interchange.mapping.LegalEntity;
import io.interchange.store.ReconciliationRuns;

import java.time.LocalDate;

/**
 * The ERP side of a run, read from the ledger's own read API over a range of posting dates, page by page, through the
 * ERP's throttle ({@link ErpAccess#readLedgerPage}): an entity's ledger is at the legacy ERP before its cut-over date
 * and at S/4HANA from it. {@link #readEntity} hands each document on as the billing document it comes from
 * ({@link LedgerDocuments}); {@link #readItems} hands on the items themselves, for comparisons that take documents apart
 * otherwise (a loyalty filing holds many transactions).
 */
final class ErpLedger {

    /** Where a ledger item was read: the ERP target ({@link LegalEntity#S4HANA}, {@link LegalEntity#LEGACY}). */
    interface ItemSink {
        void accept(String target, ErpConnector.LedgerItem item);
    }

    private final ErpAccess access;
    private final int pageSize;

    ErpLedger(ErpAccess access, int pageSize) {
        this.access = access;
        this.pageSize = pageSize;
    }

    /**
     * Reads the entity's ledger over the run's read window into the run's spool as side {@code ERP}, each document as
     * the billing document it comes from, in period when posted within the period; the number of documents.
     */
    long readEntity(Comparison.Reading reading, String progressSide) {
        Comparison.Progress progress = reading.progress(progressSide);
        long[] documents = {0};
        String[] target = {null};
        LocalDate from = reading.from();
        LocalDate to = reading.to();
        try (ReconciliationRuns.Spool spool = reading.spool()) {
            LedgerDocuments.Grouper grouper = new LedgerDocuments.Grouper(d -> {
                documents[0]++;
                progress.run();
                boolean inPeriod = d.postingDate() != null && !d.postingDate().isBefore(from) && d.postingDate().isBefore(to);
                spool.add(new ReconciliationRuns.Record(ReconciliationRuns.ERP, d.matchKey(), d.kind(), d.documentKey(),
                        d.documentKey(), d.erpReference(), d.currency(), d.amount() == null ? null
                        : Money.minor(d.amount(), d.currency()), d.postingDate(), inPeriod, target[0] + " "
                        + (d.headerText() == null ? "" : d.headerText() + ", ") + d.lines() + " lines"));
            });
            readItems(reading, (t, item) -> {
                if (!t.equals(target[0])) grouper.finish(); // a document never spans the two ledgers
                target[0] = t;
                grouper.add(item);
            });
            grouper.finish();
        }
        progress.done();
        return documents[0];
    }

    /**
     * Reads every item of the entity's ledger posted within the run's read window, in the ERP's order (consecutive
     * items of one document together), each with the ERP it was read at.
     */
    void readItems(Comparison.Reading reading, ItemSink sink) {
        LegalEntity entity = reading.entity();
        LocalDate readFrom = reading.readFrom();
        LocalDate readTo = reading.readTo();
        LocalDate cutover = entity.s4CutoverDate();
        if (cutover == null || readFrom.isBefore(cutover)) {
            LocalDate end = cutover == null || readTo.isBefore(cutover) ? readTo : cutover;
            read(reading, LegalEntity.LEGACY, entity.legacyCompany(), readFrom, end, sink);
        }
        if (cutover != null && readTo.isAfter(cutover)) {
            LocalDate start = readFrom.isBefore(cutover) ? cutover : readFrom;
            read(reading, LegalEntity.S4HANA, entity.companyCode(), start, readTo, sink);
        }
    }

    private void read(Comparison.Reading reading, String target, String companyCode, LocalDate readFrom,
                      LocalDate readTo, ItemSink sink) {
        String cursor = null;
        do {
            ErpConnector.LedgerPage page = access.readLedgerPage(reading.template(), target, companyCode, readFrom,
                    readTo, cursor, pageSize);
            for (ErpConnector.LedgerItem item : page.items()) sink.accept(target, item);
            cursor = page.next();
        } while (cursor != null);
    }
}
