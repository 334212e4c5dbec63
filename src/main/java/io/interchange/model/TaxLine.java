package io.interchange.model;

/**
 * Tax charged on an invoice for one rate; amounts in minor units. {@code taxableMinor} is null when the billing
 * platform does not give the tax base (never invented as 0).
 */
public record TaxLine(String taxRateId, String taxCode, Long taxableMinor, long amountMinor, boolean inclusive) {
}
