package io.interchange.connectors.erp;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.config.Config;
import io.interchange.config.Settings;
import io.interchange.mapping.LegalEntity;
import io.interchange.mapping.Mapping;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.XmlWriter;
import io.interchange.model.LedgerPosting;
import io.interchange.reliability.PermanentFailure;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import java.math.BigDecimal;
import java.util.ArrayList;

import java.util.List;

/**
 * The legacy ERP's ledger SOAP service ({@code PostJournal}, namespace {@code urn:interchange:legacy-erp:ledger:v1})
 * for entities not yet cut over; the request is built by {@code mappings/legacy-erp/post-journal.jslt}. The journal's
 * reference is the posting id; the ledger keeps references unique and finds a journal by it ({@code FindJournal}).
 */
public final class LegacyErpConnector implements ErpConnector {

    public static final String SOAP_ACTION = "\"urn:PostJournal\"";
    public static final String FIND_ACTION = "\"urn:FindJournal\"";
    public static final String LIST_ACTION = "\"urn:ListJournals\"";
    /** The customer service's read of a company's customers, page by page. */
    public static final String LIST_CUSTOMERS_ACTION = "\"urn:ListCustomers\"";
    private static final String NS = "urn:interchange:legacy-erp:ledger:v1";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ErpEndpoint endpoint;
    private final Mapping mapping;
    private final String customerUrl;

    public LegacyErpConnector(Config config, MappingEngine mappings) {
        this.endpoint = new ErpEndpoint("legacyErp", config.get(Settings.LEGACY_URL),
                config.getDuration(Settings.LEGACY_TIMEOUT), config.get(Settings.LEGACY_USER),
                config.get(Settings.LEGACY_PASSWORD),
                config.getInt(Settings.LEGACY_MAX_RATE));
        this.mapping = mappings.get("legacy-erp/post-journal");
        String customers = config.get(Settings.LEGACY_CUSTOMER_URL);
        // by default the customer service sits beside the ledger service: .../legacy/ledger -> .../legacy/customers
        this.customerUrl = customers == null || customers.isBlank()
                ? endpoint.url().resolve("customers").toString() : customers;
    }

    /** The customer service ({@link LegacyCustomers}, UpsertCustomer), by default beside the ledger service. */
    @Override
    public String customerUri() {
        return endpoint.camelUri(customerUrl, "POST");
    }

    /** The customer service again: it answers {@code ListCustomers} beside {@code UpsertCustomer}. */
    @Override
    public String partnerReadUri() {
        return customerUri();
    }

    /**
     * {@code ListCustomers}: the company's customers created before {@code CreatedBefore}, by customer number, at most
     * {@code MaxCustomers}, after the number {@code After} (the cursor: the last customer of the page before), in the
     * manner of {@code ListJournals}.
     */
    @Override
    public ReadRequest partnerRequest(String company, java.time.LocalDate createdBefore, String cursor, int pageSize) {
        String body = "<c:ListCustomers xmlns:c=\"" + LegacyCustomers.NS + "\"><c:Company>" + xml(company) + "</c:Company>"
                + "<c:CreatedBefore>" + createdBefore + "</c:CreatedBefore>"
                + (cursor == null ? "" : "<c:After>" + xml(cursor) + "</c:After>")
                + "<c:MaxCustomers>" + pageSize + "</c:MaxCustomers></c:ListCustomers>";
        return new ReadRequest(null, new String[]{"SOAPAction", LIST_CUSTOMERS_ACTION}, SoapSupport.envelope(body));
    }

    /** The customers of a ListCustomers answer; the next page starts after the last, when More says so. */
    @Override
    public PartnerPage readPartners(int httpStatus, byte[] body, String cursor, int pageSize) {
        Element root = SoapSupport.successBody("legacy ERP customer service", httpStatus, body);
        if (!"ListCustomersResponse".equals(root.getLocalName())) {
            throw new PermanentFailure("legacy ERP answered " + root.getLocalName() + " instead of ListCustomersResponse");
        }
        List<Partner> partners = new ArrayList<>();
        NodeList customers = root.getElementsByTagNameNS("*", "Customer");
        String last = null;
        for (int i = 0; i < customers.getLength(); i++) {
            Element c = (Element) customers.item(i);
            String number = SoapSupport.text(c, "CustomerNumber");
            java.time.LocalDate created;
            try {
                String text = SoapSupport.text(c, "Created");
                created = text == null ? null : java.time.LocalDate.parse(text);
            } catch (java.time.format.DateTimeParseException e) {
                throw new PermanentFailure("legacy ERP gave customer " + number + " a creation date that is not a date");
            }
            String company = SoapSupport.text(c, "Company");
            partners.add(new Partner(number, SoapSupport.text(c, "Name"), SoapSupport.text(c, "Email"),
                    SoapSupport.text(c, "Country"), company == null ? java.util.Set.of() : java.util.Set.of(company), created));
            last = number;
        }
        boolean more = "true".equals(SoapSupport.text(root, "More"));
        return new PartnerPage(partners, more && last != null ? last : null);
    }

    @Override
    public ErpEndpoint endpoint() {
        return endpoint;
    }

    @Override
    public String target() {
        return LegalEntity.LEGACY;
    }

    @Override
    public String request(List<LedgerPosting> postings) {
        if (postings.size() != 1) {
            throw new IllegalArgumentException("the legacy ERP takes one journal per request, not " + postings.size());
        }
        LedgerPosting posting = postings.get(0);
        ObjectNode input = JSON.createObjectNode();
        input.set("posting", JSON.valueToTree(posting));
        return SoapSupport.envelope(XmlWriter.write(mapping.apply(input, posting.postingId())));
    }

    @Override
    public String[] requestHeaders() {
        return new String[]{"SOAPAction", SOAP_ACTION};
    }

    @Override
    public ErpAnswer read(int httpStatus, byte[] body) {
        return readAll(httpStatus, body, List.of()).get(0).orThrow();
    }

    /**
     * The journal's document number, or a rejection when the ledger already holds a journal under its reference
     * (whether the fault names that journal or not): what it holds is then read and compared before anything is
     * recorded, so a journal of our own from an earlier attempt becomes the confirmation and anything else a conflict.
     */
    @Override
    public List<EntryAnswer> readAll(int httpStatus, byte[] body, List<LedgerPosting> postings) {
        if (postings.size() > 1) {
            throw new IllegalArgumentException("the legacy ERP takes one journal per request, not " + postings.size());
        }
        String duplicate = duplicateReference(httpStatus, body);
        if (duplicate != null) {
            return List.of(EntryAnswer.rejected("legacy ERP refused a second journal under the reference: " + duplicate));
        }
        Element root = SoapSupport.successBody("legacy ERP", httpStatus, body);
        if (!"PostJournalResponse".equals(root.getLocalName())) {
            throw new PermanentFailure("legacy ERP answered " + root.getLocalName() + " instead of PostJournalResponse");
        }
        String document = SoapSupport.text(root, "DocumentNumber");
        if (document == null || document.isBlank()) {
            throw new PermanentFailure("legacy ERP answered without a DocumentNumber");
        }
        return List.of(EntryAnswer.posted(new ErpAnswer(document, SoapSupport.text(root, "FiscalYear"), null)));
    }

    /** The fault text of a {@code Client.DuplicateReference} fault, or null for any other answer. */
    private static String duplicateReference(int httpStatus, byte[] body) {
        if (httpStatus != 500 || body == null) return null;
        try {
            Element env = SoapSupport.parse(body).getDocumentElement();
            String code = SoapSupport.text(env, "faultcode");
            if (code == null || !code.endsWith("Client.DuplicateReference")) return null;
            String text = String.valueOf(SoapSupport.text(env, "faultstring"));
            return text.length() > 300 ? text.substring(0, 300) + "…" : text;
        } catch (Exception e) {
            return null;
        }
    }

    @Override
    public String readUri() {
        return endpoint.camelUri();
    }

    @Override
    public ReadRequest readRequest(LedgerPosting posting) {
        String body = "<lg:FindJournal xmlns:lg=\"" + NS + "\"><lg:Reference>" + xml(posting.postingId())
                + "</lg:Reference></lg:FindJournal>";
        return new ReadRequest(null, new String[]{"SOAPAction", FIND_ACTION}, SoapSupport.envelope(body));
    }

    @Override
    public Holding readHolding(int httpStatus, byte[] body, LedgerPosting posting) {
        Element root = SoapSupport.successBody("legacy ERP", httpStatus, body);
        if (!"FindJournalResponse".equals(root.getLocalName())) {
            throw new PermanentFailure("legacy ERP answered " + root.getLocalName() + " instead of FindJournalResponse");
        }
        List<HeldEntries.Entry> entries = new ArrayList<>();
        NodeList journals = root.getElementsByTagNameNS("*", "Journal");
        for (int i = 0; i < journals.getLength(); i++) {
            Element journal = (Element) journals.item(i);
            BigDecimal debits = BigDecimal.ZERO;
            NodeList lines = journal.getElementsByTagNameNS("*", "Line");
            for (int j = 0; j < lines.getLength(); j++) {
                Element line = (Element) lines.item(j);
                if (!"D".equals(SoapSupport.text(line, "Side"))) continue;
                try {
                    debits = debits.add(new BigDecimal(String.valueOf(SoapSupport.text(line, "Amount"))));
                } catch (NumberFormatException e) {
                    throw new PermanentFailure("legacy ERP gave a line of journal " + SoapSupport.text(journal, "DocumentNumber")
                            + " an amount that is not a decimal");
                }
            }
            entries.add(new HeldEntries.Entry(SoapSupport.text(journal, "DocumentNumber"),
                    SoapSupport.text(journal, "FiscalYear"), SoapSupport.text(journal, "Company"),
                    SoapSupport.text(journal, "Currency"), debits));
        }
        Holding holding = HeldEntries.settle("legacy ERP", posting.postingId(), entries, posting);
        // the legacy ledger confirms without a company code; the posting's stands, as for a posting it confirms
        return holding.document() == null ? holding
                : Holding.held(new ErpAnswer(holding.document().accountingDocument(), holding.document().fiscalYear(), null));
    }

    /**
     * {@code ListJournals}: the company's journals with a posting date from {@code PostedFrom} up to, not including,
     * {@code PostedBefore}, in document number order, at most {@code MaxJournals}, after the document number
     * {@code After} (the cursor: the last journal of the page before).
     */
    @Override
    public ReadRequest rangeRequest(String companyCode, java.time.LocalDate from, java.time.LocalDate to, String cursor,
                                    int pageSize) {
        String body = "<lg:ListJournals xmlns:lg=\"" + NS + "\"><lg:Company>" + xml(companyCode) + "</lg:Company>"
                + "<lg:PostedFrom>" + from + "</lg:PostedFrom><lg:PostedBefore>" + to + "</lg:PostedBefore>"
                + (cursor == null ? "" : "<lg:After>" + xml(cursor) + "</lg:After>")
                + "<lg:MaxJournals>" + pageSize + "</lg:MaxJournals></lg:ListJournals>";
        return new ReadRequest(null, new String[]{"SOAPAction", LIST_ACTION}, SoapSupport.envelope(body));
    }

    /** The journals of a ListJournals answer, line by line; the next page starts after the last, when More says so. */
    @Override
    public LedgerPage readRange(int httpStatus, byte[] body, String cursor, int pageSize) {
        Element root = SoapSupport.successBody("legacy ERP", httpStatus, body);
        if (!"ListJournalsResponse".equals(root.getLocalName())) {
            throw new PermanentFailure("legacy ERP answered " + root.getLocalName() + " instead of ListJournalsResponse");
        }
        List<LedgerItem> items = new ArrayList<>();
        String last = null;
        NodeList journals = root.getElementsByTagNameNS("*", "Journal");
        for (int i = 0; i < journals.getLength(); i++) {
            Element journal = (Element) journals.item(i);
            String document = SoapSupport.text(journal, "DocumentNumber");
            java.time.LocalDate date;
            try {
                date = java.time.LocalDate.parse(String.valueOf(SoapSupport.text(journal, "PostingDate")));
            } catch (java.time.format.DateTimeParseException e) {
                throw new PermanentFailure("legacy ERP gave journal " + document + " a posting date that is not a date");
            }
            NodeList lines = journal.getElementsByTagNameNS("*", "Line");
            for (int j = 0; j < lines.getLength(); j++) {
                Element line = (Element) lines.item(j);
                BigDecimal amount;
                try {
                    amount = new BigDecimal(String.valueOf(SoapSupport.text(line, "Amount")));
                } catch (NumberFormatException e) {
                    throw new PermanentFailure("legacy ERP gave a line of journal " + document + " an amount that is not a decimal");
                }
                items.add(new LedgerItem(SoapSupport.text(journal, "Company"), SoapSupport.text(journal, "FiscalYear"),
                        document, SoapSupport.text(journal, "Reference"), date, null,
                        SoapSupport.text(journal, "Currency"), SoapSupport.text(line, "Account"),
                        "D".equals(SoapSupport.text(line, "Side")), amount, SoapSupport.text(line, "Text")));
            }
            last = document;
        }
        boolean more = "true".equals(SoapSupport.text(root, "More"));
        return new LedgerPage(items, more && last != null ? last : null);
    }

    private static String xml(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
