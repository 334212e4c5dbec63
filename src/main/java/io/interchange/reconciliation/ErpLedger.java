package io.interchange.reconciliation;

import io.interchange.connectors.erp.ErpAccess;
import io.interchange.connectors.erp.ErpConnector;
import io.interchange.mapping.LegalEntity;
import io.interchange.store.ReconciliationRuns;
import org.apache.camel.ProducerTemplate;

import java.time.LocalDate;
import java.util.List;
import java.util.function.Consumer;

/**
 * The ERP side of a run, read from the ledger's own read API over a range of posting dates, page by page, through the
 * ERP's throttle ({@link ErpAccess#readLedgerPage}): each document as the billing document it comes from
 * ({@link LedgerDocuments}).
 */
final class ErpLedger {

    private final ErpAccess access;
    private final int pageSize;

    ErpLedger(ErpAccess access, int pageSize) {
        this.access = access;
        this.pageSize = pageSize;
    }

    /**
     * Reads the documents of {@code companyCode} at {@code target} posted from {@code readFrom} up to {@code readTo}
     * into {@code sink}, in period when posted within {@code [from, to)}; the number of documents.
     */
    long read(ProducerTemplate template, String target, String companyCode, LocalDate readFrom, LocalDate readTo,
              LocalDate from, LocalDate to, Consumer<ReconciliationRuns.Record> sink, Runnable progress) {
        long[] documents = {0};
        LedgerDocuments.Grouper grouper = new LedgerDocuments.Grouper(d -> {
            documents[0]++;
            progress.run();
            boolean inPeriod = d.postingDate() != null && !d.postingDate().isBefore(from) && d.postingDate().isBefore(to);
            sink.accept(new ReconciliationRuns.Record(ReconciliationRuns.ERP, d.matchKey(), d.kind(), d.documentKey(),
                    d.documentKey(), d.erpReference(), d.currency(), d.amount() == null ? null : Money.minor(d.amount(),
                    d.currency()), d.postingDate(), inPeriod, target + " " + (d.headerText() == null ? "" : d.headerText()
                    + ", ") + d.lines() + " lines"));
        });
        read(template, target, companyCode, readFrom, readTo, grouper);
        return documents[0];
    }

    /**
     * Reads the documents of {@code companyCode} at {@code target} posted from {@code readFrom} up to {@code readTo},
     * handing each on whole, as its lines ({@code each}); the number of documents.
     */
    long readDocuments(ProducerTemplate template, String target, String companyCode, LocalDate readFrom,
                       LocalDate readTo, Consumer<List<ErpConnector.LedgerItem>> each) {
        long[] documents = {0};
        read(template, target, companyCode, readFrom, readTo, LedgerDocuments.Grouper.ofLines(lines -> {
            documents[0]++;
            each.accept(lines);
        }));
        return documents[0];
    }

    /** Where one stretch of an entity's ledger is read: the ERP, the company there, and the posting dates. */
    record Stretch(String target, String companyCode, LocalDate from, LocalDate to) {
    }

    /**
     * Where {@code entity}'s ledger from {@code readFrom} up to {@code readTo} is: at the legacy ERP before its
     * cut-over date, at S/4HANA from it (one stretch or two).
     */
    static List<Stretch> stretches(LegalEntity entity, LocalDate readFrom, LocalDate readTo) {
        List<Stretch> out = new java.util.ArrayList<>();
        LocalDate cutover = entity.s4CutoverDate();
        if (cutover == null || readFrom.isBefore(cutover)) {
            LocalDate end = cutover == null || readTo.isBefore(cutover) ? readTo : cutover;
            out.add(new Stretch(LegalEntity.LEGACY, entity.legacyCompany(), readFrom, end));
        }
        if (cutover != null && readTo.isAfter(cutover)) {
            LocalDate start = readFrom.isBefore(cutover) ? cutover : readFrom;
            out.add(new Stretch(LegalEntity.S4HANA, entity.companyCode(), start, readTo));
        }
        return out;
    }

    private void read(ProducerTemplate template, String target, String companyCode, LocalDate readFrom,
                      LocalDate readTo, LedgerDocuments.Grouper grouper) {
        String cursor = null;
        do {
            ErpConnector.LedgerPage page = access.readLedgerPage(template, target, companyCode, readFrom, readTo, cursor,
                    pageSize);
            page.items().forEach(grouper::add);
            cursor = page.next();
        } while (cursor != null);
        grouper.finish();
    }
}
