package io.interchange.model;

/** Canonical refund of a payment, version 1: the amount refunded by this event, in minor units. */
public record Refund(String refundId, String paymentId, String invoiceId, CustomerRef customer, String currency,
                     long amountMinor, String occurredOn, String reason) {
}
