package io.interchange.mapping;

import java.time.LocalDate;
import java.time.ZoneId;

/**
 * One row of the legal-entity routing table.
 *
 * @param s4CutoverDate postings dated on or after it go to S/4HANA; before it, or when null, to the legacy ERP
 * @param timeZone      the zone the entity's books run in: its documents are dated by the calendar there
 */
public record LegalEntity(String id, String companyCode, String legacyCompany, String currency, String taxRegion,
                          LocalDate s4CutoverDate, ZoneId timeZone) {

    public static final String S4HANA = "S4HANA";
    public static final String LEGACY = "LEGACY";

    /** Which ERP keeps this entity's ledger on the given posting date. */
    public String erpTargetOn(LocalDate postingDate) {
        return s4CutoverDate != null && !postingDate.isBefore(s4CutoverDate) ? S4HANA : LEGACY;
    }
}
