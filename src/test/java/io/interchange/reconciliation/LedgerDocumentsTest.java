package io.interchange.reconciliation;

import io.interchange.connectors.erp.ErpConnector.LedgerItem;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What an ERP document is, read from the lines the ledger mapping wrote: with S/4HANA's header text and without it
 * (the legacy ledger), reversals apart, a document split over pages put together again.
 */
class LedgerDocumentsTest {

    private static final LocalDate DAY = LocalDate.of(2026, 10, 1);

    @Test
    void theHeaderNamesTheKindAndTheAnchorLineTheReferenceAndAmount() {
        LedgerDocuments.Document payment = LedgerDocuments.classify(List.of(
                line("0100000007", "PAYMENT 1EAF3590-0001", "11001020", true, "1800.00", "Payment pi_3TEsrm"),
                line("0100000007", "PAYMENT 1EAF3590-0001", "12600000", false, "1800.00", "Invoice 1EAF3590-0001")));
        assertThat(payment.matchKey()).isEqualTo("PAYMENT|pi_3TEsrm");
        assertThat(payment.amount()).isEqualByComparingTo("1800.00");

        // a negative invoice posts its receivable credited
        LedgerDocuments.Document negative = LedgerDocuments.classify(List.of(
                line("0100000008", "INVOICE 77-0002", "12600000", false, "25.00", "Invoice 77-0002"),
                line("0100000008", "INVOICE 77-0002", "41000000", true, "25.00", "Downgrade credit")));
        assertThat(negative.matchKey()).isEqualTo("INVOICE|77-0002");

        LedgerDocuments.Document reversal = LedgerDocuments.classify(List.of(
                line("0100000009", "INVOICE_REVERSAL 77-0001", "12600000", false, "10.00", "Invoice 77-0001"),
                line("0100000009", "INVOICE_REVERSAL 77-0001", "41000000", true, "10.00", "Seat")));
        assertThat(reversal.kind()).isEqualTo(LedgerDocuments.OTHER);
        assertThat(reversal.matchKey()).isEqualTo("OTHER|1010/2026/0100000009");
    }

    @Test
    void withoutAHeaderTheFirstAnchorOnADebitLineDecidesAndOneCreditedFirstIsAReversal() {
        assertThat(LedgerDocuments.classify(List.of(
                line("LG1", null, "11001020", true, "10.00", "Payment pi_1"),
                line("LG1", null, "12600000", false, "10.00", "Invoice N-1"))).matchKey()).isEqualTo("PAYMENT|pi_1");
        assertThat(LedgerDocuments.classify(List.of(
                line("LG2", null, "41100000", true, "3.00", "Refund re_1"),
                line("LG2", null, "11001020", false, "3.00", "Refund of ch_1"))).matchKey()).isEqualTo("REFUND|re_1");
        assertThat(LedgerDocuments.classify(List.of(
                line("LG3", null, "12600000", true, "12.00", "Invoice N-2"),
                line("LG3", null, "41000000", false, "10.00", "Consulting, 2 hours"),
                line("LG3", null, "22000000", false, "2.00", "Output tax"))).matchKey()).isEqualTo("INVOICE|N-2");
        // a voided credit note debits the receivable again: not an invoice
        LedgerDocuments.Document voidedCreditNote = LedgerDocuments.classify(List.of(
                line("LG4", null, "41000000", false, "5.00", "Credit note N-2-CN-01"),
                line("LG4", null, "12600000", true, "5.00", "Invoice N-2")));
        assertThat(voidedCreditNote.kind()).isEqualTo(LedgerDocuments.OTHER);
        // loyalty points: checked against confirmations only
        assertThat(LedgerDocuments.classify(List.of(
                line("LG5", null, "61500000", true, "1.00", "Points earned lt_1"),
                line("LG5", null, "21800000", false, "1.00", "Points m_1 lt_1"))).kind()).isEqualTo(LedgerDocuments.OTHER);
    }

    @Test
    void aDocumentSplitOverPagesIsClassifiedOnceWhole() {
        List<LedgerDocuments.Document> documents = new ArrayList<>();
        LedgerDocuments.Grouper grouper = new LedgerDocuments.Grouper(documents::add);
        grouper.add(line("0100000001", "INVOICE A-1", "12600000", true, "119.00", "Invoice A-1"));
        grouper.add(line("0100000001", "INVOICE A-1", "41000000", false, "100.00", "Seat"));
        // next page
        grouper.add(line("0100000001", "INVOICE A-1", null, false, "19.00", null));
        grouper.add(line("0100000002", "REFUND re_9", "41100000", true, "5.00", "Refund re_9"));
        grouper.finish();
        assertThat(documents).extracting(LedgerDocuments.Document::matchKey).containsExactly("INVOICE|A-1", "REFUND|re_9");
        assertThat(documents.get(0).lines()).isEqualTo(3);
    }

    private static LedgerItem line(String document, String header, String account, boolean debit, String amount,
                                   String text) {
        return new LedgerItem("1010", "2026", document, "REF", DAY, header, "EUR", account, debit,
                new BigDecimal(amount), text);
    }
}
