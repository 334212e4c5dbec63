package io.interchange.model;

import java.util.List;

/**
 * Canonical credit memo (a credit note against an invoice), version 1, amounts in minor units. As on an invoice,
 * {@code subtotalMinor} includes inclusive tax and {@code taxMinor} is the exclusive tax. The total is credited as
 * {@code prePaymentMinor} (the receivable shrinks) and, after payment, as {@code refundedMinor} (returned by refunds),
 * {@code outOfBandMinor} (returned outside the billing platform) and {@code creditedMinor} (to the customer's balance).
 */
public record CreditMemo(String creditNoteId, String number, String invoiceId, String invoiceNumber, CustomerRef customer,
                         String currency, String type, String reason, long subtotalMinor, long discountMinor,
                         long creditsMinor, long shippingMinor, long taxMinor, long inclusiveTaxMinor, long totalMinor,
                         long prePaymentMinor, long refundedMinor, long outOfBandMinor, long creditedMinor,
                         String issuedOn, List<TaxLine> taxes) {

    public CreditMemo {
        taxes = taxes == null ? List.of() : List.copyOf(taxes);
    }

    /** What does not add up, or null: the split must be the total, and subtotal - discount - credits + tax + shipping too. */
    public String inconsistency() {
        if (prePaymentMinor + refundedMinor + outOfBandMinor + creditedMinor != totalMinor) {
            return "pre-payment " + prePaymentMinor + " + refunded " + refundedMinor + " + out of band " + outOfBandMinor
                    + " + credited " + creditedMinor + " does not equal total " + totalMinor;
        }
        if (creditedMinor < 0) return "refunds and out-of-band returns exceed the post-payment amount";
        long taxSum = taxes.stream().mapToLong(TaxLine::amountMinor).sum();
        if (taxSum != taxMinor + inclusiveTaxMinor) {
            return "tax amounts sum to " + taxSum + " but tax is " + taxMinor + " exclusive + " + inclusiveTaxMinor + " inclusive";
        }
        if (subtotalMinor - discountMinor - creditsMinor + taxMinor + shippingMinor != totalMinor) {
            return "subtotal " + subtotalMinor + " - discount " + discountMinor + " - credits " + creditsMinor
                    + " + exclusive tax " + taxMinor + " + shipping " + shippingMinor + " does not equal total " + totalMinor;
        }
        return null;
    }
}
