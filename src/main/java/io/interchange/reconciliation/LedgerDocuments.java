package io.interchange.reconciliation;

import io.interchange.connectors.erp.ErpConnector.LedgerItem;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The billing document an ERP ledger document comes from, read from what the ledger mapping
 * ({@code mappings/ledger/posting-rules.jslt}) puts in the entry: S/4HANA's header text starts with the posting's kind
 * ({@code INVOICE 1EAF3590-0001}); each billing document names itself in the text of one line, its anchor
 * ({@code Invoice <number>} on the receivable, {@code Payment <payment id>} on the bank, {@code Refund <refund id>} on
 * the refunds account, {@code Credit note <number>} on revenue), whose amount is the document's (the invoice total, the
 * payment, the refund, the credit note net of included tax). The legacy ledger keeps no header text: there the kind is
 * that of the first anchor found, payment before refund before credit note before invoice (a payment's entry also
 * credits {@code Invoice <number>}), on a debit line; found on a credit line first, the document is the reversal of
 * one. Anything else (reversals, write-offs, disputes, loyalty points) is
 * {@code OTHER}: checked against our confirmations, not against billing.
 */
final class LedgerDocuments {

    static final String INVOICE = "INVOICE";
    static final String PAYMENT = "PAYMENT";
    static final String REFUND = "REFUND";
    static final String CREDIT_NOTE = "CREDIT_NOTE";
    static final String OTHER = "OTHER";
    private static final Set<String> BILLING_KINDS = Set.of(INVOICE, PAYMENT, REFUND, CREDIT_NOTE);
    /** Kinds in the order the legacy ledger's documents are recognised, with their anchor's text. */
    private static final String[][] ANCHORS = {{PAYMENT, "Payment "}, {REFUND, "Refund "}, {CREDIT_NOTE, "Credit note "},
            {INVOICE, "Invoice "}};

    /** One ERP document: key (company/year/number), kind, billing reference, the anchor's amount and currency. */
    record Document(String documentKey, String kind, String reference, String currency, BigDecimal amount,
                    LocalDate postingDate, String erpReference, String headerText, int lines) {
        /** The billing document it comes from, {@code kind|reference}, or {@code OTHER|<document key>}. */
        String matchKey() {
            return OTHER.equals(kind) ? OTHER + "|" + documentKey : key(kind, reference);
        }
    }

    private LedgerDocuments() {
    }

    /** The match key of a billing document: {@code kind|reference}. */
    static String key(String kind, String reference) {
        return kind + "|" + reference;
    }

    /** What one document's lines say it is. */
    static Document classify(List<LedgerItem> lines) {
        LedgerItem first = lines.get(0);
        String kind = null;
        if (first.headerText() != null) {
            String word = first.headerText().split(" ", 2)[0].toUpperCase(Locale.ROOT);
            kind = BILLING_KINDS.contains(word) ? word : OTHER;
        }
        LedgerItem anchor = null;
        if (kind == null) {
            for (String[] a : ANCHORS) {
                anchor = anchor(lines, a[1], true);
                if (anchor != null) {
                    kind = a[0];
                    break;
                }
                // the anchor credited: the reversal of such a document (a voided credit note debits the receivable)
                if (anchor(lines, a[1], false) != null) break;
            }
        } else if (!OTHER.equals(kind)) {
            String prefix = prefix(kind);
            anchor = anchor(lines, prefix, true);
            if (anchor == null) anchor = anchor(lines, prefix, false); // a negative document posts its anchor credited
        }
        if (anchor == null) kind = OTHER;
        return new Document(first.documentKey(), kind,
                anchor == null ? null : anchor.text().substring(prefix(kind).length()),
                first.currency(), anchor == null ? null : anchor.amount(), first.postingDate(), first.reference(),
                first.headerText(), lines.size());
    }

    private static String prefix(String kind) {
        for (String[] a : ANCHORS) if (a[0].equals(kind)) return a[1];
        return "";
    }

    /** The first line whose text is {@code prefix} and one word (an id or number), on the debit side if asked. */
    private static LedgerItem anchor(List<LedgerItem> lines, String prefix, boolean debit) {
        for (LedgerItem line : lines) {
            String text = line.text();
            if (text == null || !text.startsWith(prefix) || line.debit() != debit) continue;
            String rest = text.substring(prefix.length());
            if (!rest.isEmpty() && !rest.contains(" ")) return line;
        }
        return null;
    }

    /** Collects consecutive lines of one document (pages may split a document) and hands on each document whole. */
    static final class Grouper {
        private final Consumer<List<LedgerItem>> each;
        private final List<LedgerItem> current = new ArrayList<>();

        /** Each document as the billing document it comes from ({@link #classify}). */
        Grouper(Consumer<Document> each) {
            this.each = lines -> each.accept(classify(lines));
        }

        private Grouper(Consumer<List<LedgerItem>> lines, Void asLines) {
            this.each = lines;
        }

        /** Each document as its lines, in the ledger's order (a copy the consumer may keep). */
        static Grouper ofLines(Consumer<List<LedgerItem>> lines) {
            return new Grouper(lines, (Void) null);
        }

        void add(LedgerItem item) {
            if (!current.isEmpty() && !current.get(0).documentKey().equals(item.documentKey())) finish();
            current.add(item);
        }

        void finish() {
            if (current.isEmpty()) return;
            each.accept(List.copyOf(current));
            current.clear();
        }
    }
}
