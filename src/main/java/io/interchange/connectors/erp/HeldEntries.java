package io.interchange.connectors.erp;

import io.interchange.model.LedgerLine;
import io.interchange.model.LedgerPosting;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Currency;
import java.util.List;

/**
 * Decides what the entries a ledger holds under a posting's reference are to that posting: the same entry (same
 * company, currency and debit total), nothing, or something else under our reference, which is a conflict an operator
 * must see rather than a confirmation or a second posting.
 */
final class HeldEntries {

    /** One document the ledger holds: its number, year, company, currency and the sum of its debits. */
    record Entry(String document, String fiscalYear, String companyCode, String currency, BigDecimal debits) {
    }

    private HeldEntries() {
    }

    static ErpConnector.Holding settle(String system, String reference, List<Entry> entries, LedgerPosting posting) {
        if (entries.isEmpty()) return ErpConnector.Holding.absent();
        BigDecimal ours = debits(posting);
        List<String> others = new ArrayList<>();
        for (Entry e : entries) {
            boolean same = posting.companyCode().equalsIgnoreCase(String.valueOf(e.companyCode()))
                    && posting.currency().equalsIgnoreCase(String.valueOf(e.currency()))
                    && e.debits() != null && e.debits().compareTo(ours) == 0;
            if (same) return ErpConnector.Holding.held(new ErpConnector.ErpAnswer(e.document(), e.fiscalYear(), e.companyCode()));
            others.add("document " + e.document() + "/" + e.fiscalYear() + " of company " + e.companyCode()
                    + " with debits " + (e.debits() == null ? "?" : e.debits().toPlainString()) + " " + e.currency());
        }
        return ErpConnector.Holding.conflicting(system + " holds " + String.join("; ", others) + " under reference "
                + reference + ", not this posting (" + posting.postingId() + ": company " + posting.companyCode()
                + ", debits " + ours.toPlainString() + " " + posting.currency() + "); nothing was sent, an operator "
                + "must decide which entry stands");
    }

    /** The posting's debit total in its currency's major units. */
    static BigDecimal debits(LedgerPosting posting) {
        long minor = 0;
        for (LedgerLine l : posting.lines()) {
            if (LedgerLine.DEBIT.equals(l.side())) minor += l.amountMinor();
        }
        int digits = Math.max(0, Currency.getInstance(posting.currency().toUpperCase()).getDefaultFractionDigits());
        return BigDecimal.valueOf(minor).movePointLeft(digits);
    }
}
