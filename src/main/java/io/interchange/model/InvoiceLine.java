package io.interchange.model;

/**
 * One invoice line; amounts in minor units of the invoice currency. {@code amountMinor} includes
 * {@code inclusiveTaxMinor}; {@code taxMinor} is the exclusive tax charged on top of it.
 */
public record InvoiceLine(String lineId, String description, long quantity, long amountMinor, long taxMinor,
                          long inclusiveTaxMinor, String productId) {
}
