package io.interchange.model;

/** Tax charged on an invoice for one rate; amounts in minor units. */
public record TaxLine(String taxRateId, String taxCode, long taxableMinor, long amountMinor, boolean inclusive) {
}
