package io.interchange.model;

/**
 * Canonical refund of a payment, version 1: one refund by its own id and amount, in minor units, with its status
 * (SUCCEEDED, PENDING, REQUIRES_ACTION, FAILED or CANCELED).
 */
public record Refund(String refundId, String paymentId, String invoiceId, CustomerRef customer, String currency,
                     long amountMinor, String occurredOn, String reason, String status) {
}
