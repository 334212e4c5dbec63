package io.interchange.model;

import java.util.List;

/**
 * Canonical ledger posting, version 1: a balanced set of debit and credit lines for one legal entity.
 *
 * @param postingId     stable id: the same source event always yields the same posting id
 * @param kind          INVOICE, PAYMENT or REFUND
 * @param erpTarget     S4HANA or LEGACY, from the legal-entity table
 */
public record LedgerPosting(String postingId, String sourceEventId, String kind, String legalEntity, String erpTarget,
                            String companyCode, String currency, String documentDate, String postingDate,
                            String reference, String text, CustomerRef customer, List<LedgerLine> lines) {

    public LedgerPosting {
        lines = lines == null ? List.of() : List.copyOf(lines);
    }

    /** Sum of debits minus sum of credits; zero when balanced. */
    public long imbalanceMinor() {
        return lines.stream().mapToLong(l -> LedgerLine.DEBIT.equals(l.side()) ? l.amountMinor() : -l.amountMinor()).sum();
    }
}
