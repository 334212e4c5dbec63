package io.interchange.customer;

import io.interchange.connectors.erp.LegacyCustomers;
import io.interchange.connectors.erp.S4BusinessPartners;
import io.interchange.model.Customer;

import java.util.List;

/**
 * The ERPs' customer services as the customer sync calls them: through each ERP's one throttle and circuit breaker,
 * shared with the ledger's postings (an open breaker is a transient failure: the change is retried, never lost).
 */
public interface ErpCustomerCalls {

    /** Sends S/4HANA's business partner replication (asynchronous: accepted now, confirmed later). */
    void replicateS4(List<S4BusinessPartners.PartnerRequest> partners);

    /** Saves the customer in the legacy ERP's company of the legal entity; answers its customer number there. */
    LegacyCustomers.Answer upsertLegacy(Customer customer, String legalEntity, String legacyCompany);
}
