package io.interchange.connectors.erp;

import io.interchange.model.LedgerPosting;
import org.apache.camel.health.HealthCheck;

/**
 * An ERP that takes ledger postings, with the same small set of parts for every ERP: its endpoint, the request it
 * builds, how it reads (and classifies) the answer, and its health check.
 */
public interface ErpConnector {

    /** {@code S4HANA} or {@code LEGACY}, as in the legal-entity table. */
    String target();

    /** Where and how the ERP is reached: URL, timeouts, credentials, rate. */
    ErpEndpoint endpoint();

    /** The Camel endpoint URI of the SOAP service (credentials are not in it). */
    default String endpointUri() {
        return endpoint().camelUri();
    }

    /** Most requests per second one instance may send. */
    default int maxRate() {
        return endpoint().maxRate();
    }

    /** The SOAP request for one posting, envelope included. */
    String request(LedgerPosting posting);

    /** Headers the service requires besides Content-Type (e.g. SOAPAction), as name/value pairs. */
    String[] requestHeaders();

    /** Reads the answer; returns the confirmation, or throws a transient or permanent failure saying why. */
    ErpAnswer read(int httpStatus, byte[] body);

    default HealthCheck healthCheck() {
        return endpoint().healthCheck();
    }

    /** What the ERP confirmed for a posting. */
    record ErpAnswer(String accountingDocument, String fiscalYear, String companyCode) {
    }
}
