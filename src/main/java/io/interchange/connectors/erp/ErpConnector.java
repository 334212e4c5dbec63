package io.interchange.connectors.erp;

import io.interchange.model.LedgerPosting;
import io.interchange.reliability.PermanentFailure;
import org.apache.camel.health.HealthCheck;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.List;

/**
 * An ERP that takes ledger postings, with the same small set of parts for every ERP: its endpoint, the request it
 * builds, how it reads (and classifies) the answer, and its health check.
 */
public interface ErpConnector {

    /** Exchange property of the ERP route: the postings one request carries (a list of at most {@link #maxBulk()}). */
    String POSTINGS = "InterchangeErpPostings";
    /** Exchange property the ERP route sets: one {@link EntryAnswer} per posting, in the order of {@link #POSTINGS}. */
    String ANSWERS = "InterchangeErpAnswers";

    /** {@code S4HANA} or {@code LEGACY}, as in the legal-entity table. */
    String target();

    /** Where and how the ERP is reached: URL, timeouts, credentials, rate. */
    ErpEndpoint endpoint();

    /** The Camel endpoint URI of the SOAP service (credentials are not in it). */
    default String endpointUri() {
        return endpoint().camelUri();
    }

    /**
     * The Camel endpoint URI of the ERP's customer service (same credentials, timeouts and rate limit as its ledger),
     * or null when the ERP has none: S/4HANA's business partner replication, the legacy ERP's UpsertCustomer.
     */
    default String customerUri() {
        return null;
    }

    /** Most requests per second one instance may send. */
    default int maxRate() {
        return endpoint().maxRate();
    }

    /** Most postings one request may carry: 1 unless the ERP takes several in one message. */
    default int maxBulk() {
        return 1;
    }

    /** The SOAP request for one posting, envelope included. */
    default String request(LedgerPosting posting) {
        return request(List.of(posting));
    }

    /** The SOAP request for these postings (one to {@link #maxBulk()}), envelope included. */
    String request(List<LedgerPosting> postings);

    /** Headers the service requires besides Content-Type (e.g. SOAPAction), as name/value pairs. */
    String[] requestHeaders();

    /** Reads the answer to a request for one posting; returns the confirmation, or throws a failure saying why. */
    ErpAnswer read(int httpStatus, byte[] body);

    /**
     * Reads the answer to a request for these postings: one {@link EntryAnswer} per posting, in their order. A failure
     * of the whole message (unreachable, a fault, an answer that is not a confirmation of every entry) is thrown; an
     * entry the ERP rejected on its own is an answer with a rejection, the others stay posted.
     */
    default List<EntryAnswer> readAll(int httpStatus, byte[] body, List<LedgerPosting> postings) {
        if (postings.size() != 1) {
            throw new IllegalArgumentException(target() + " takes one posting per request, not " + postings.size());
        }
        return List.of(EntryAnswer.posted(read(httpStatus, body)));
    }

    /** Exchange property the read route sets: the {@link Holding} of the posting in {@link #POSTINGS}. */
    String HOLDING = "InterchangeErpHolding";

    /** The Camel endpoint URI of the service that tells what the ledger holds under a reference. */
    String readUri();

    /** The request asking what the ledger holds under this posting's reference. */
    ReadRequest readRequest(LedgerPosting posting);

    /**
     * Reads the answer to {@link #readRequest}: the entry the ledger holds for this posting (same company, currency
     * and amounts), nothing, or a different entry under its reference (a conflict, described with both). A failure to
     * answer is thrown, classified like a posting's.
     */
    Holding readHolding(int httpStatus, byte[] body, LedgerPosting posting);

    /** A read request: the query string (URL-encoded, or null), extra headers as name/value pairs, the body (or null). */
    record ReadRequest(String query, String[] headers, String body) {
    }

    /** What the ledger holds under a posting's reference. */
    record Holding(ErpAnswer document, String conflict) {
        public static Holding absent() {
            return new Holding(null, null);
        }

        public static Holding held(ErpAnswer document) {
            return new Holding(document, null);
        }

        public static Holding conflicting(String description) {
            return new Holding(null, description);
        }

        public boolean isAbsent() {
            return document == null && conflict == null;
        }
    }

    /**
     * The request for one page of the ledger's entries of a company code with a posting date in {@code [from, to)}, as
     * the ERP's own read API serves them (sent like a {@link #readRequest} to {@link #readUri}): the first page when
     * {@code cursor} is null, else the page the previous one's {@link LedgerPage#next} names. {@code pageSize}: items
     * (S/4HANA) or journals (legacy ERP) asked per page; the ERP may answer fewer.
     */
    ReadRequest rangeRequest(String companyCode, LocalDate from, LocalDate to, String cursor, int pageSize);

    /**
     * Reads the answer to {@link #rangeRequest} for {@code cursor} and {@code pageSize}: its lines, in document order
     * (the lines of one document together), and the cursor of the next page, or null on the last. A failure to answer
     * is thrown, classified like a posting's.
     */
    LedgerPage readRange(int httpStatus, byte[] body, String cursor, int pageSize);

    /** One page of a range read: lines of documents, and where the next page starts (null: none). */
    record LedgerPage(List<LedgerItem> items, String next) {
        public LedgerPage {
            items = List.copyOf(items);
        }
    }

    /**
     * One line of a document the ledger holds, as its read API gives it: the document's key (company code, fiscal year,
     * number), its reference (the posting's ERP reference, or the legacy journal's reference), posting date, header text
     * (null where the ERP keeps none), currency, the line's account, debit or credit, positive amount and text.
     */
    record LedgerItem(String companyCode, String fiscalYear, String document, String reference, LocalDate postingDate,
                      String headerText, String currency, String account, boolean debit, BigDecimal amount,
                      String text) {
        /** The document's key in the ERP: {@code company/fiscal year/document}. */
        public String documentKey() {
            return companyCode + "/" + fiscalYear + "/" + document;
        }
    }

    /**
     * The Camel endpoint URI of the ERP's read API of its customers (business partners), or null when it has none yet:
     * a reconciliation reads the ERP's side of the customer master through it.
     */
    default String partnerReadUri() {
        return null;
    }

    /**
     * The request for one page of the ERP's customers of {@code company} (the legacy company; S/4HANA, whose read API
     * cannot filter by company code, answers every partner with its company codes) created before
     * {@code createdBefore} (sent to {@link #partnerReadUri}): the first page when {@code cursor} is null, else the
     * page the previous one's {@link PartnerPage#next} names.
     */
    default ReadRequest partnerRequest(String company, LocalDate createdBefore, String cursor, int pageSize) {
        throw new UnsupportedOperationException(target() + " has no customer read API");
    }

    /** Reads the answer to {@link #partnerRequest}; a failure to answer is thrown, classified like a posting's. */
    default PartnerPage readPartners(int httpStatus, byte[] body, String cursor, int pageSize) {
        throw new UnsupportedOperationException(target() + " has no customer read API");
    }

    /**
     * One customer as the ERP's read API gives it: its number, name, e-mail and country (null where it holds none),
     * the company codes it is a customer of, and the date it was created (null where the ERP does not say).
     */
    record Partner(String number, String name, String email, String country, java.util.Set<String> companyCodes,
                   LocalDate createdOn) {
        public Partner {
            companyCodes = java.util.Set.copyOf(companyCodes);
        }
    }

    /** One page of customers, and where the next page starts (null: none). */
    record PartnerPage(List<Partner> partners, String next) {
        public PartnerPage {
            partners = List.copyOf(partners);
        }
    }

    default HealthCheck healthCheck() {
        return endpoint().healthCheck();
    }

    /** What the ERP confirmed for a posting. */
    record ErpAnswer(String accountingDocument, String fiscalYear, String companyCode) {
    }

    /** The ERP's answer for one posting of a request: posted ({@code answer}) or rejected with a reason. */
    record EntryAnswer(ErpAnswer answer, String rejection) {
        public static EntryAnswer posted(ErpAnswer answer) {
            return new EntryAnswer(answer, null);
        }

        public static EntryAnswer rejected(String reason) {
            return new EntryAnswer(null, reason);
        }

        /** The confirmation, or the rejection as a permanent failure (for a request of one posting). */
        public ErpAnswer orThrow() {
            if (answer == null) throw new PermanentFailure(rejection);
            return answer;
        }
    }
}
