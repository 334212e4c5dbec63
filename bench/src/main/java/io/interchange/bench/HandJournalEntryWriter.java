package io.interchange.bench;

import io.interchange.model.LedgerLine;
import io.interchange.model.LedgerPosting;

import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;
import java.io.StringWriter;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Currency;
import java.util.Locale;
import java.util.UUID;

/**
 * Baseline: {@code mappings/sap/journal-entry.jslt} + {@code XmlWriter} written by hand as one StAX pass over the
 * {@link LedgerPosting} record. Same output, byte for byte (checked in the benchmark's setup): same StAX
 * implementation ({@link XMLOutputFactory#newFactory()}, as XmlWriter uses), null fields left out, amounts signed
 * (debit positive, credit negative) with the currency's fraction digits, items numbered over non-tax lines.
 */
final class HandJournalEntryWriter {

    private static final XMLOutputFactory FACTORY = XMLOutputFactory.newFactory();

    private HandJournalEntryWriter() {
    }

    static String write(LedgerPosting p, String now, String logicalSystem, String user) {
        String currency = required(p.currency(), "posting.currency");
        int digits = Math.max(Currency.getInstance(currency.toUpperCase(Locale.ROOT)).getDefaultFractionDigits(), 0);
        String uuid = UUID.nameUUIDFromBytes(required(p.postingId(), "posting.postingId")
                .getBytes(StandardCharsets.UTF_8)).toString();
        StringWriter out = new StringWriter();
        try {
            XMLStreamWriter w = FACTORY.createXMLStreamWriter(out);
            w.writeStartElement("JournalEntryCreateRequest");

            w.writeStartElement("MessageHeader");
            leaf(w, "ID", uuid.replace("-", ""));
            leaf(w, "UUID", uuid);
            leaf(w, "CreationDateTime", required(now, "context.now"));
            w.writeEndElement();

            w.writeStartElement("JournalEntry");
            leaf(w, "OriginalReferenceDocumentType", "BKPFF");
            leaf(w, "OriginalReferenceDocument", p.reference());
            leaf(w, "OriginalReferenceDocumentLogicalSystem", logicalSystem);
            leaf(w, "BusinessTransactionType", "RFBU");
            leaf(w, "AccountingDocumentType", "SA");
            leaf(w, "DocumentReferenceID", p.reference());
            leaf(w, "DocumentHeaderText", p.text());
            leaf(w, "CreatedByUser", user);
            leaf(w, "CompanyCode", required(p.companyCode(), "posting.companyCode"));
            leaf(w, "DocumentDate", required(p.documentDate(), "posting.documentDate"));
            leaf(w, "PostingDate", required(p.postingDate(), "posting.postingDate"));
            int item = 0;
            for (LedgerLine l : p.lines()) {
                if (l.tax()) continue;
                w.writeStartElement("Item");
                leaf(w, "ReferenceDocumentItem", Integer.toString(++item));
                leaf(w, "GLAccount", l.account());
                amount(w, "AmountInTransactionCurrency", currency, signed(l.amountMinor(), l.side()), digits);
                leaf(w, "DebitCreditCode", debitCredit(l.side()));
                leaf(w, "DocumentItemText", l.text());
                w.writeEndElement();
            }
            for (LedgerLine l : p.lines()) {
                if (!l.tax()) continue;
                w.writeStartElement("ProductTaxItem");
                leaf(w, "TaxCode", l.taxCode());
                amount(w, "AmountInTransactionCurrency", currency, signed(l.amountMinor(), l.side()), digits);
                amount(w, "TaxBaseAmountInTransCrcy", currency, signed(l.taxBaseMinor(), l.side()), digits);
                leaf(w, "DebitCreditCode", debitCredit(l.side()));
                leaf(w, "ConditionType", "MWS");
                w.writeEndElement();
            }
            w.writeEndElement();

            w.writeEndElement();
            w.flush();
        } catch (XMLStreamException e) {
            throw new IllegalStateException("Cannot write XML: " + e.getMessage(), e);
        }
        return out.toString();
    }

    private static void leaf(XMLStreamWriter w, String name, String text) throws XMLStreamException {
        if (text == null) return;
        w.writeStartElement(name);
        w.writeCharacters(text);
        w.writeEndElement();
    }

    private static void amount(XMLStreamWriter w, String name, String currency, long minor, int digits)
            throws XMLStreamException {
        w.writeStartElement(name);
        w.writeAttribute("currencyCode", currency);
        w.writeCharacters(BigDecimal.valueOf(minor, digits).toPlainString());
        w.writeEndElement();
    }

    private static long signed(long amount, String side) {
        return switch (side) {
            case LedgerLine.DEBIT -> amount;
            case LedgerLine.CREDIT -> -amount;
            default -> throw new IllegalArgumentException("side must be DEBIT or CREDIT, got " + side);
        };
    }

    private static String debitCredit(String side) {
        return LedgerLine.DEBIT.equals(side) ? "S" : "H";
    }

    private static String required(String v, String path) {
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException("missing required field " + path);
        }
        return v;
    }
}
