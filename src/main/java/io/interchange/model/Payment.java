package io.interchange.model;

/** Canonical payment (or failed payment attempt) of an invoice, version 1; amount in minor units. */
public record Payment(String paymentId, String invoiceId, String invoiceNumber, CustomerRef customer, String currency,
                      long amountMinor, String status, String occurredOn, int attemptCount, String failureMessage) {

    public static final String SUCCEEDED = "SUCCEEDED";
    public static final String FAILED = "FAILED";
}
