package io.interchange.model;

import java.util.List;

/**
 * Canonical daily filing of loyalty points transactions, version 1: one legal entity's transactions of a closed day
 * (and any that arrived late for earlier days), posted as one journal entry with one line pair per transaction.
 *
 * @param filingId     {@code loyalty-filing:<entity>:<date>:<part>}: the posting's identity
 * @param part         a day's transactions beyond interchange.loyalty.filing-max-transactions go into further parts
 * @param amountMinor  the net of the transactions' amounts (signed like their points)
 * @param transactions the filed transactions, each as it was published
 */
public record LoyaltyFiling(String filingId, String legalEntity, String filingDate, int part, String currency,
                            long amountMinor, List<LoyaltyTransaction> transactions) {

    public LoyaltyFiling {
        transactions = transactions == null ? List.of() : List.copyOf(transactions);
    }
}
