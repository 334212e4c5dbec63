package io.interchange.model;

/** Canonical confirmation that the ERP posted a ledger posting, version 1. */
public record LedgerConfirmation(String postingId, String sourceEventId, String legalEntity, String erpTarget,
                                 String companyCode, String accountingDocument, String fiscalYear) {
}
