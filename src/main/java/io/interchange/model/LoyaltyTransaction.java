package io.interchange.model;

/**
 * Canonical loyalty points transaction, version 1: points a member's loyalty card gained or lost on the loyalty
 * platform, valued in the money of the customer's legal entity. The platform's ledger event; every one of them is a
 * movement of the points liability (posted to the ERP once, by its transaction id).
 *
 * @param transactionId  the platform's transaction id ({@code vtx_...}): the posting's identity
 * @param type           the platform's transaction type ({@code POINTS_ACCRUAL}, {@code POINTS_REDEMPTION},
 *                       {@code POINTS_EXPIRATION}, ...)
 * @param movement       what it does to the liability: {@code EARNED} (accrual, addition, removal, activation of
 *                       pending points), {@code REDEEMED} (redemption, and its refund), {@code EXPIRED} or
 *                       {@code TRANSFERRED}
 * @param customer       the card's holder: global id (the platform customer's {@code source_id}) and the platform's
 *                       customer id
 * @param memberId       the loyalty card (member) code
 * @param campaignId     the loyalty program
 * @param points         signed change of the balance (negative for a redemption, removal, expiration, transfer out)
 * @param balance        the card's balance after it, where the platform sent it
 * @param sourceId       the id the caller gave the transaction ({@code source_id}), e.g. ours for points we added
 * @param reason         the reason the platform recorded, if any
 * @param relatedTransactionId the transaction it relates to (a refund's redemption, a transfer's other side), if any
 * @param orderId        the platform's order that earned the points, if any
 * @param currency       the legal entity's currency
 * @param pointValue     the value of one point in minor units of that currency (decimal), from
 *                       {@code mappings/loyalty/point-values.csv}
 * @param amountMinor    {@code points} valued: signed, minor units, rounded half-even
 * @param occurredAt     when the platform recorded it (ISO-8601, UTC)
 * @param occurredOn     its date in the legal entity's time zone (the posting date)
 */
public record LoyaltyTransaction(String transactionId, String type, String movement, CustomerRef customer,
                                 String memberId, String campaignId, long points, Long balance, String sourceId,
                                 String reason, String relatedTransactionId, String orderId, String currency,
                                 String pointValue, long amountMinor, String occurredAt, String occurredOn) {
}
