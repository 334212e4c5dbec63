package io.interchange.model;

/**
 * Canonical dispute (chargeback) of a payment, version 1, amounts in minor units: the disputed amount, and what this
 * event moved on the billing platform's balance ({@code movedMinor}, negative when funds were withdrawn) with the fee
 * charged for it. Status as the platform gives it (NEEDS_RESPONSE, UNDER_REVIEW, WON, LOST, WARNING_CLOSED, ...).
 */
public record Dispute(String disputeId, String paymentId, String invoiceId, String invoiceNumber, CustomerRef customer,
                      String currency, long amountMinor, long movedMinor, long feeMinor, String status, String reason,
                      String occurredOn) {
}
