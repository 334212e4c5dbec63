package io.interchange.connectors.erp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.config.Config;
import io.interchange.config.Settings;
import io.interchange.mapping.Mapping;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.ErpReference;
import io.interchange.mapping.XmlWriter;
import io.interchange.mapping.LegalEntity;
import io.interchange.model.LedgerPosting;
import io.interchange.reliability.PermanentFailure;
import io.interchange.reliability.TransientFailure;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import java.math.BigDecimal;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * SAP S/4HANA Journal Entry – Post over SOAP: the {@code JournalEntryBulkCreateRequest} in namespace
 * {@code http://sap.com/xi/SAPSCORE/SFIN}, each entry built by {@code mappings/sap/journal-entry.jslt}, and its
 * confirmation read from the Log (severity 3 is a business rejection, permanent).
 *
 * <p>Up to {@code interchange.erp.s4.bulk-size} entries travel in one bulk request. S/4HANA answers one
 * JournalEntryCreateConfirmation per entry, matched back by its MessageHeader ReferenceID; each entry is posted or
 * rejected on its own. Every entry carries a UUID derived from its posting id, so where SAP's idempotency framework is
 * enabled an entry sent again is answered from its store instead of being posted twice.
 *
 * <p>Where it is not (or its retention ran out), the ledger's own reference is what settles an unknown outcome: each
 * entry carries its posting's {@link ErpReference} as DocumentReferenceID and OriginalReferenceDocument, and the
 * released read API {@code API_OPLACCTGDOCITEMCUBE_SRV} (entity set {@value #ITEM_CUBE}, one row per document item;
 * its properties as in SAP's published $metadata) is asked which documents of the company code carry it.
 */
public final class S4HanaConnector implements ErpConnector {

    public static final String SFIN_NS = "http://sap.com/xi/SAPSCORE/SFIN";
    /** Path of the read service's root on the S/4HANA host, when interchange.erp.s4.read-url is empty. */
    public static final String READ_SERVICE = "/sap/opu/odata/sap/API_OPLACCTGDOCITEMCUBE_SRV";
    public static final String ITEM_CUBE = "A_OperationalAcctgDocItemCube";
    private static final String READ_SELECT = "CompanyCode,FiscalYear,AccountingDocument,AccountingDocumentItem,"
            + "DocumentReferenceID,TransactionCurrency,AmountInTransactionCurrency,DebitCreditCode";
    /** Items one read may return; a journal entry has a handful, so more is a reference shared beyond reason. */
    private static final int READ_TOP = 1000;
    private static final String RANGE_SELECT = READ_SELECT + ",PostingDate,GLAccount,DocumentItemText,"
            + "AccountingDocumentHeaderText";
    private static final String RANGE_ORDER = "CompanyCode,FiscalYear,AccountingDocument,AccountingDocumentItem";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ErpEndpoint endpoint;
    private final Mapping mapping;
    private final String logicalSystem;
    private final String user;
    private final Clock clock;
    private final int maxBulk;
    private final String readUrl;
    private final String partnerUrl;
    private final String partnerReadUrl;

    public S4HanaConnector(Config config, MappingEngine mappings, Clock clock) {
        this.endpoint = new ErpEndpoint("s4hana", config.get(Settings.S4_URL), config.getDuration(Settings.S4_TIMEOUT),
                config.get(Settings.S4_USER), config.get(Settings.S4_PASSWORD),
                config.getInt(Settings.S4_MAX_RATE));
        this.mapping = mappings.get("sap/journal-entry");
        this.logicalSystem = config.get(Settings.S4_LOGICAL_SYSTEM);
        this.user = config.get(Settings.S4_USER);
        this.clock = clock;
        this.maxBulk = config.getInt(Settings.S4_BULK_SIZE);
        String read = config.get(Settings.S4_READ_URL);
        if (read == null || read.isBlank()) {
            URI post = endpoint.url();
            read = post.getScheme() + "://" + post.getRawAuthority() + READ_SERVICE;
        }
        this.readUrl = read.endsWith("/") ? read.substring(0, read.length() - 1) : read;
        String partners = config.get(Settings.S4_PARTNER_URL);
        if (partners == null || partners.isBlank()) {
            URI post = endpoint.url();
            partners = post.getScheme() + "://" + post.getRawAuthority() + S4BusinessPartners.SERVICE_PATH;
        }
        this.partnerUrl = partners;
        URI post = endpoint.url();
        this.partnerReadUrl = post.getScheme() + "://" + post.getRawAuthority() + S4PartnerReads.SERVICE + "/"
                + S4PartnerReads.ENTITY_SET;
        if (maxBulk < 1 || maxBulk > 500) {
            throw new IllegalArgumentException(Settings.S4_BULK_SIZE.key() + " must be between 1 and 500, not " + maxBulk);
        }
    }

    @Override
    public int maxBulk() {
        return maxBulk;
    }

    @Override
    public ErpEndpoint endpoint() {
        return endpoint;
    }

    @Override
    public String target() {
        return LegalEntity.S4HANA;
    }

    @Override
    public String request(List<LedgerPosting> postings) {
        if (postings.isEmpty() || postings.size() > maxBulk) {
            throw new IllegalArgumentException("a bulk request carries 1 to " + maxBulk + " entries, not " + postings.size());
        }
        String now = clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
        // The bulk wrapper is protocol, not business mapping: each entry is the mapping's, the wrapper is built here.
        StringBuilder xml = new StringBuilder(2048 * postings.size())
                .append("<sfin:JournalEntryBulkCreateRequest xmlns:sfin=\"").append(SFIN_NS).append("\">")
                .append("<MessageHeader><ID>").append(UUID.randomUUID().toString().replace("-", ""))
                .append("</ID><CreationDateTime>").append(now).append("</CreationDateTime></MessageHeader>");
        for (LedgerPosting posting : postings) {
            ObjectNode input = JSON.createObjectNode();
            input.set("posting", JSON.valueToTree(posting));
            input.putObject("context").put("now", now).put("logicalSystem", logicalSystem).put("user", user);
            xml.append(XmlWriter.write(mapping.apply(input, posting.postingId())));
        }
        return SoapSupport.envelope(xml.append("</sfin:JournalEntryBulkCreateRequest>").toString());
    }

    /** The entry's MessageHeader ID, as journal-entry.jslt builds it: the posting id's name-based UUID, no dashes. */
    static String entryMessageId(LedgerPosting posting) {
        return UUID.nameUUIDFromBytes(posting.postingId().getBytes(StandardCharsets.UTF_8)).toString().replace("-", "");
    }

    @Override
    public String[] requestHeaders() {
        return new String[0];
    }

    @Override
    public ErpAnswer read(int httpStatus, byte[] body) {
        return readOne(httpStatus, body).orThrow();
    }

    /** The answer to a request of one entry, whichever reference S/4HANA gave it. */
    private static EntryAnswer readOne(int httpStatus, byte[] body) {
        Element root = confirmationRoot(httpStatus, body);
        List<Element> entries = entryConfirmations(root);
        if (entries.size() > 1) {
            throw new PermanentFailure("S/4HANA confirmed " + entries.size() + " journal entries for a request of one");
        }
        return entry(entries.isEmpty() ? root : entries.get(0));
    }

    @Override
    public List<EntryAnswer> readAll(int httpStatus, byte[] body, List<LedgerPosting> postings) {
        if (postings.size() == 1) return List.of(readOne(httpStatus, body));
        Element root = confirmationRoot(httpStatus, body);
        Map<String, EntryAnswer> byReference = new HashMap<>();
        for (Element confirmation : entryConfirmations(root)) {
            // the entry's MessageHeader comes first, so its ReferenceID is the first in the entry
            String reference = SoapSupport.text(confirmation, "ReferenceID");
            if (reference != null) byReference.put(reference.toUpperCase(Locale.ROOT), entry(confirmation));
        }
        List<EntryAnswer> answers = new ArrayList<>(postings.size());
        for (LedgerPosting posting : postings) {
            EntryAnswer answer = byReference.get(entryMessageId(posting).toUpperCase(Locale.ROOT));
            if (answer == null) {
                // whether S/4HANA posted it is unknown: the whole answer fails, and each entry is asked for again alone
                throw new PermanentFailure("S/4HANA's bulk confirmation has no entry for posting " + posting.postingId()
                        + " (" + byReference.size() + " of " + postings.size() + " entries confirmed)");
            }
            answers.add(answer);
        }
        return answers;
    }

    private static Element confirmationRoot(int httpStatus, byte[] body) {
        Element root = SoapSupport.successBody("S/4HANA", httpStatus, body);
        if (!"JournalEntryBulkCreateConfirmation".equals(root.getLocalName())) {
            throw new PermanentFailure("S/4HANA answered " + root.getLocalName() + " instead of JournalEntryBulkCreateConfirmation");
        }
        return root;
    }

    /** Business partner replication ({@link S4BusinessPartners}), by default on the host of the posting service. */
    @Override
    public String customerUri() {
        return endpoint.camelUri(partnerUrl, "POST");
    }

    /** {@code API_BUSINESS_PARTNER} on the host of the posting service ({@link S4PartnerReads}). */
    @Override
    public String partnerReadUri() {
        return endpoint.camelUri(partnerReadUrl, "GET");
    }

    @Override
    public ReadRequest partnerRequest(String company, java.time.LocalDate createdBefore, String cursor, int pageSize) {
        return S4PartnerReads.request(createdBefore, cursor, pageSize);
    }

    @Override
    public PartnerPage readPartners(int httpStatus, byte[] body, String cursor, int pageSize) {
        return S4PartnerReads.read(httpStatus, body, cursor, pageSize);
    }

    @Override
    public String readUri() {
        return endpoint.camelUri(readUrl + "/" + ITEM_CUBE, "GET");
    }

    @Override
    public ReadRequest readRequest(LedgerPosting posting) {
        String filter = "CompanyCode eq '" + posting.companyCode().replace("'", "''") + "' and DocumentReferenceID eq '"
                + ErpReference.of(posting.sourceEventId()) + "'";
        return new ReadRequest("$filter=" + encode(filter) + "&$select=" + encode(READ_SELECT) + "&$top=" + READ_TOP
                + "&$format=json", new String[]{"Accept", "application/json"}, null);
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** OData V2 JSON ({@code d.results}), one row per item: grouped by document, debits summed per document. */
    @Override
    public Holding readHolding(int httpStatus, byte[] body, LedgerPosting posting) {
        String reference = ErpReference.of(posting.sourceEventId());
        checkReadStatus(httpStatus, body);
        JsonNode results;
        try {
            JsonNode d = JSON.readTree(body).path("d");
            results = d.path("results");
            if (!results.isArray()) throw new IllegalArgumentException("no d.results array");
            if (d.hasNonNull("__next")) {
                throw new PermanentFailure("S/4HANA holds more than " + READ_TOP + " items under reference " + reference
                        + " in company code " + posting.companyCode() + "; an operator must look at them");
            }
        } catch (java.io.IOException | IllegalArgumentException e) {
            throw new PermanentFailure("S/4HANA's read service answered something that is not OData JSON ("
                    + e.getMessage() + ")" + SoapSupport.snippet(body));
        }
        Map<String, HeldEntries.Entry> documents = new LinkedHashMap<>();
        for (JsonNode item : results) {
            String document = item.path("AccountingDocument").asText();
            String year = item.path("FiscalYear").asText();
            BigDecimal amount;
            try {
                amount = new BigDecimal(item.path("AmountInTransactionCurrency").asText());
            } catch (NumberFormatException e) {
                throw new PermanentFailure("S/4HANA's read service gave item " + document + "/"
                        + item.path("AccountingDocumentItem").asText() + " an amount that is not a decimal");
            }
            BigDecimal debit = amount.signum() > 0 ? amount : BigDecimal.ZERO;
            documents.merge(item.path("CompanyCode").asText() + "/" + year + "/" + document,
                    new HeldEntries.Entry(document, year, item.path("CompanyCode").asText(),
                            item.path("TransactionCurrency").asText(), debit),
                    (a, b) -> new HeldEntries.Entry(a.document(), a.fiscalYear(), a.companyCode(), a.currency(),
                            a.debits().add(b.debits())));
        }
        return HeldEntries.settle("S/4HANA", reference, new ArrayList<>(documents.values()), posting);
    }

    /**
     * {@code $filter} on the company code, the posting date range (OData V2 {@code datetime} literals) and the
     * communication user that created the documents (the runtime's own postings, not those of the accountants), ordered
     * by document and item, {@code $top}/{@code $skip} paging. A cursor is the next {@code $skip}, or the query of the
     * {@code __next} link SAP gives when it pages on its own (server-driven paging).
     */
    @Override
    public ReadRequest rangeRequest(String companyCode, java.time.LocalDate from, java.time.LocalDate to, String cursor,
                                    int pageSize) {
        String[] json = {"Accept", "application/json"};
        if (cursor != null && cursor.startsWith("?")) return new ReadRequest(cursor.substring(1), json, null);
        String filter = "CompanyCode eq '" + companyCode.replace("'", "''") + "' and PostingDate ge datetime'" + from
                + "T00:00:00' and PostingDate lt datetime'" + to + "T00:00:00' and AccountingDocCreatedByUser eq '"
                + user.replace("'", "''") + "'";
        return new ReadRequest("$filter=" + encode(filter) + "&$select=" + encode(RANGE_SELECT) + "&$orderby="
                + encode(RANGE_ORDER) + "&$top=" + pageSize + "&$skip=" + (cursor == null ? "0" : cursor)
                + "&$format=json", json, null);
    }

    @Override
    public LedgerPage readRange(int httpStatus, byte[] body, String cursor, int pageSize) {
        checkReadStatus(httpStatus, body);
        List<LedgerItem> items = new ArrayList<>();
        String next;
        JsonNode d;
        try {
            d = JSON.readTree(body).path("d");
            if (!d.path("results").isArray()) throw new IllegalArgumentException("no d.results array");
        } catch (java.io.IOException | IllegalArgumentException e) {
            throw new PermanentFailure("S/4HANA's read service answered something that is not OData JSON ("
                    + e.getMessage() + ")" + SoapSupport.snippet(body));
        }
        for (JsonNode item : d.path("results")) {
            BigDecimal amount;
            try {
                amount = new BigDecimal(item.path("AmountInTransactionCurrency").asText());
            } catch (NumberFormatException e) {
                throw new PermanentFailure("S/4HANA's read service gave item " + item.path("AccountingDocument").asText()
                        + "/" + item.path("AccountingDocumentItem").asText() + " an amount that is not a decimal");
            }
            items.add(new LedgerItem(item.path("CompanyCode").asText(), item.path("FiscalYear").asText(),
                    item.path("AccountingDocument").asText(), item.path("DocumentReferenceID").asText(null),
                    odataDate(item.path("PostingDate").asText("")), blankToNull(item.path("AccountingDocumentHeaderText")),
                    item.path("TransactionCurrency").asText(), item.path("GLAccount").asText(null),
                    "S".equals(item.path("DebitCreditCode").asText()) || amount.signum() > 0, amount.abs(),
                    blankToNull(item.path("DocumentItemText"))));
        }
        // the page asked for: its $skip and $top (a link SAP gave carries its own)
        long skip = cursor == null ? 0 : cursor.startsWith("?") ? queryNumber(cursor, "$skip", -1) : Long.parseLong(cursor);
        long top = cursor != null && cursor.startsWith("?") ? queryNumber(cursor, "$top", -1) : pageSize;
        if (d.hasNonNull("__next")) {
            // SAP paged on its own within the page asked for: follow its link
            String link = d.path("__next").asText();
            int q = link.indexOf('?');
            next = q < 0 ? null : link.substring(q);
        } else if (skip < 0 || top < 0) {
            next = null; // the end of a $skiptoken chain: SAP gave all there was
        } else {
            // a full page may have more behind it: the next $skip; a short one is the last
            next = items.size() >= top ? String.valueOf(skip + items.size()) : null;
        }
        return new LedgerPage(items, next);
    }

    /** A number parameter of a query string ({@code ?a=1&b=2}), or {@code fallback} when it has none. */
    static long queryNumber(String query, String name, long fallback) {
        for (String pair : query.substring(1).split("&")) {
            int eq = pair.indexOf('=');
            if (eq < 0) continue;
            if (URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8).equals(name)) {
                try {
                    return Long.parseLong(URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
                } catch (NumberFormatException e) {
                    return fallback;
                }
            }
        }
        return fallback;
    }

    private static String blankToNull(JsonNode n) {
        return n.isTextual() && !n.asText().isBlank() ? n.asText() : null;
    }

    /** OData V2's JSON date, {@code /Date(1712448000000)/}, as the UTC calendar date SAP means by it. */
    static java.time.LocalDate odataDate(String text) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("/Date\\((-?\\d+)[^)]*\\)/").matcher(text);
        if (!m.find()) throw new PermanentFailure("S/4HANA's read service gave a posting date that is not an OData date: " + text);
        return java.time.Instant.ofEpochMilli(Long.parseLong(m.group(1))).atZone(java.time.ZoneOffset.UTC).toLocalDate();
    }

    private static void checkReadStatus(int httpStatus, byte[] body) {
        if (httpStatus == 401 || httpStatus == 403) {
            throw new PermanentFailure("S/4HANA's read service refused the credentials (HTTP " + httpStatus + "); the "
                    + "communication user needs API_OPLACCTGDOCITEMCUBE_SRV too");
        }
        if (httpStatus == 408 || httpStatus == 429 || httpStatus >= 500) {
            throw new TransientFailure("S/4HANA's read service unavailable (HTTP " + httpStatus + ")" + SoapSupport.snippet(body));
        }
        if (httpStatus != 200) {
            throw new PermanentFailure("S/4HANA's read service answered HTTP " + httpStatus + SoapSupport.snippet(body));
        }
    }

    /** The per-entry JournalEntryCreateConfirmation children of the bulk confirmation. */
    private static List<Element> entryConfirmations(Element root) {
        List<Element> entries = new ArrayList<>();
        for (org.w3c.dom.Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && "JournalEntryCreateConfirmation".equals(e.getLocalName())) entries.add(e);
        }
        return entries;
    }

    /** One entry's outcome: severity 3 or 4, or no document number, is a business rejection of that entry. */
    private static EntryAnswer entry(Element confirmation) {
        String severity = SoapSupport.text(confirmation, "MaximumLogItemSeverityCode");
        String document = SoapSupport.text(confirmation, "AccountingDocument");
        if ("3".equals(severity) || "4".equals(severity) || document == null || document.matches("0+")) {
            List<String> notes = new ArrayList<>();
            NodeList items = confirmation.getElementsByTagNameNS("*", "Note");
            for (int i = 0; i < items.getLength(); i++) notes.add(items.item(i).getTextContent().strip());
            return EntryAnswer.rejected("S/4HANA rejected the journal entry: "
                    + (notes.isEmpty() ? "no reason given" : String.join("; ", notes)));
        }
        SoapSupport.checkConfirmationValues("S/4HANA", confirmation);
        return EntryAnswer.posted(new ErpAnswer(document, SoapSupport.text(confirmation, "FiscalYear"),
                SoapSupport.text(confirmation, "CompanyCode")));
    }
}
