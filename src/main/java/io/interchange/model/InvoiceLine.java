package io.interchange.model;

/** One invoice line; amounts in minor units of the invoice currency, tax excluded. */
public record InvoiceLine(String lineId, String description, long quantity, long amountMinor, long taxMinor,
                          String productId) {
}
