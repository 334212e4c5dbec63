package io.interchange.model;

import java.util.List;

/**
 * Canonical invoice, version 1: amounts in minor units. Line amounts and the subtotal are as the billing platform
 * gives them, so they include inclusive tax; {@code taxMinor} is the exclusive tax (added to the total),
 * {@code inclusiveTaxMinor} the tax already inside the lines. {@code creditsMinor} are pre-tax credits that are not
 * discounts (credit grants), {@code remainingMinor} what is still owed, {@code overpaidMinor} what was paid beyond the
 * total (from API basil on, credited to the customer's balance).
 */
public record Invoice(String invoiceId, String number, CustomerRef customer, String currency, String status,
                      long subtotalMinor, long discountMinor, long creditsMinor, long taxMinor, long inclusiveTaxMinor,
                      long totalMinor, long remainingMinor, long overpaidMinor, String issuedOn, String dueOn, List<InvoiceLine> lines,
                      List<TaxLine> taxes) {

    public Invoice {
        lines = lines == null ? List.of() : List.copyOf(lines);
        taxes = taxes == null ? List.of() : List.copyOf(taxes);
    }

    /**
     * What does not add up, or null: lines must sum to the subtotal, the tax lines to the exclusive and inclusive tax,
     * and subtotal - discount - credits + exclusive tax to the total.
     */
    public String inconsistency() {
        long lineSum = lines.stream().mapToLong(InvoiceLine::amountMinor).sum();
        if (lines.isEmpty()) return "invoice has no lines";
        if (lineSum != subtotalMinor) return "lines sum to " + lineSum + " but subtotal is " + subtotalMinor;
        long taxSum = taxes.stream().mapToLong(TaxLine::amountMinor).sum();
        if (taxSum != taxMinor + inclusiveTaxMinor) {
            return "tax amounts sum to " + taxSum + " but tax is " + taxMinor + " exclusive + " + inclusiveTaxMinor + " inclusive";
        }
        if (subtotalMinor - discountMinor - creditsMinor + taxMinor != totalMinor) {
            return "subtotal " + subtotalMinor + " - discount " + discountMinor + " - credits " + creditsMinor
                    + " + exclusive tax " + taxMinor + " does not equal total " + totalMinor;
        }
        return null;
    }
}
