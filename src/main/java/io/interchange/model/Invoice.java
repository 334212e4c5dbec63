package io.interchange.model;

import java.util.List;

/**
 * Canonical invoice, version 1: amounts in minor units, tax exclusive.
 */
public record Invoice(String invoiceId, String number, CustomerRef customer, String currency, String status,
                      long subtotalMinor, long discountMinor, long taxMinor, long totalMinor, String issuedOn,
                      String dueOn, List<InvoiceLine> lines, List<TaxLine> taxes) {

    public Invoice {
        lines = lines == null ? List.of() : List.copyOf(lines);
        taxes = taxes == null ? List.of() : List.copyOf(taxes);
    }

    /** What does not add up, or null: lines must sum to the subtotal, and subtotal - discount + tax to the total. */
    public String inconsistency() {
        long lineSum = lines.stream().mapToLong(InvoiceLine::amountMinor).sum();
        if (lines.isEmpty()) return "invoice has no lines";
        if (lineSum != subtotalMinor) return "lines sum to " + lineSum + " but subtotal is " + subtotalMinor;
        long taxSum = taxes.stream().mapToLong(TaxLine::amountMinor).sum();
        if (taxSum != taxMinor) return "tax amounts sum to " + taxSum + " but tax is " + taxMinor;
        if (subtotalMinor - discountMinor + taxMinor != totalMinor) {
            return "subtotal " + subtotalMinor + " - discount " + discountMinor + " + tax " + taxMinor
                    + " does not equal total " + totalMinor;
        }
        return null;
    }
}
