package io.interchange.sandbox;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.w3c.dom.Element;

/**
 * In-process SAP S/4HANA: "Journal Entry – Post" (JournalEntryBulkCreateRequest) over SOAP, validating and posting
 * like SAP, and the released read API a runtime asks what the ledger holds (OData V2 {@value #READ_SERVICE}, entity
 * set {@code A_OperationalAcctgDocItemCube}, one row per document item, filtered by company code and reference, or by
 * company code and a range of posting dates for a reconciliation).
 *
 * <p>Two of SAP's duplicate behaviours can be chosen: the idempotency framework for synchronous services, which
 * answers a MessageHeader/UUID seen before with the original confirmation ({@link #setIdempotencyWindow}, on by
 * default; an ERP team may not have it enabled), and the ledger's own check, which rejects a second entry of a company
 * code under an original reference (or document reference) it already holds ({@link #setDuplicateReferenceCheck}, on
 * by default), without naming the document it has.
 */
public final class S4HanaPeer extends SoapPeerSupport<S4HanaPeer.Posting> {

    public static final String PATH = "/sap/bc/srt/scs_ext/sap/journalentrybulkcreaterequest";
    public static final String SFIN_NS = "http://sap.com/xi/SAPSCORE/SFIN";
    /** The OData V2 read service's path; its entity set is {@value #ITEM_CUBE}. */
    public static final String READ_SERVICE = "/sap/opu/odata/sap/API_OPLACCTGDOCITEMCUBE_SRV";
    public static final String ITEM_CUBE = "A_OperationalAcctgDocItemCube";
    /** The business partner read API (OData V2); its entity set is {@value #PARTNER_SET}. */
    public static final String PARTNER_SERVICE = "/sap/opu/odata/sap/API_BUSINESS_PARTNER";
    public static final String PARTNER_SET = "A_BusinessPartner";

    private static final String NO_DOCUMENT = "0000000000";
    private static final long NUMBER_RANGE_START = 100_000_000L;
    private static final String REQUIRED = "055(00)";
    private static final String NO_COMPANY = "165(F5)";
    private static final String UNBALANCED = "702(F5)";
    private static final String INVALID = "609(RW)";
    private static final String POSTED = "614(RW)";
    private static final String DUPLICATE = "609(RW)";

    /** One accepted journal entry; {@code rawXml} is the whole request it arrived in. */
    public record Posting(String messageId, String uuid, String companyCode, String fiscalYear,
                          String accountingDocument, String documentReferenceId, String originalReferenceDocument,
                          String headerText, LocalDate postingDate, String currency, List<Line> lines, String rawXml,
                          String createdByUser) {
        public Posting {
            lines = List.copyOf(lines);
        }
    }

    /** One posted line; {@code glAccount} is null for tax lines, {@code text} (DocumentItemText) may be null. */
    public record Line(String glAccount, BigDecimal amount, String debitCreditCode, boolean tax, String text) {
    }

    private record Entry(String messageId, String uuid, String companyCode, String documentType,
                         LocalDate documentDate, LocalDate postingDate, String documentReferenceId,
                         String originalReferenceDocument, String headerText, String logicalSystem,
                         String createdByUser, List<EntryLine> lines) {
    }

    private record EntryLine(String label, String glAccount, String taxCode, BigDecimal amount, String currency,
                             String debitCreditCode, boolean tax, boolean taxBasePresent, String taxBaseCurrency,
                             String text) {
    }

    private record Issue(String typeId, int severity, String note) {
    }

    // key company/fiscal year; SAP number ranges never restart, so reset() leaves them alone
    private final ConcurrentMap<String, AtomicLong> numberRanges = new ConcurrentHashMap<>();
    // SAP's idempotency framework for synchronous services: a request with the UUID of one already processed within
    // the retention window (transaction WSIDPADMIN) is not processed again; the original response is returned
    private final ConcurrentMap<String, Processed> processedByUuid = new ConcurrentHashMap<>();
    private final AtomicInteger idempotentReplays = new AtomicInteger();
    private volatile Duration idempotencyWindow = Duration.ofHours(24);
    private volatile boolean duplicateReferenceCheck = true;
    private final AtomicInteger duplicateReferences = new AtomicInteger();
    // company code + upper-cased reference -> the document holding it (original and document references alike)
    private final ConcurrentMap<String, Posting> byReference = new ConcurrentHashMap<>();
    /** The client's logical system as it names itself in confirmations. */
    private static final String SYSTEM_ID = "S4HCLNT100";
    private final S4BusinessPartnerReplication businessPartners =
            new S4BusinessPartnerReplication(this::companyExists, SYSTEM_ID);

    private record Processed(String response, Instant at) {
    }

    public S4HanaPeer(int port, String user, String password, Map<String, String> companyCodeCurrency) {
        super(port, PATH, "soap-env", user, password, companyCodeCurrency);
        serveReads(READ_SERVICE, this::read);
        serveReads(PARTNER_SERVICE, this::readPartners);
        serveAsync(S4BusinessPartnerReplication.PATH, businessPartners::accept);
    }

    /** Business partner replication (asynchronous: confirmations go to {@link S4BusinessPartnerReplication#confirmTo}). */
    public S4BusinessPartnerReplication businessPartners() {
        return businessPartners;
    }

    /** The business partner replication service's URL. */
    public String businessPartnerUrl() {
        return baseUrl() + S4BusinessPartnerReplication.PATH;
    }

    @Override
    public synchronized void close() {
        businessPartners.close();
        super.close();
    }

    /** The read service's URL (the OData service root; the entity set is appended by the client). */
    public String readUrl() {
        return baseUrl() + READ_SERVICE;
    }

    /**
     * Whether a second entry under an original reference or document reference the company code already holds is
     * rejected (severity 3, without naming the document it has), like SAP's ledger; on by default.
     */
    public void setDuplicateReferenceCheck(boolean on) {
        this.duplicateReferenceCheck = on;
    }

    @Override
    void onReset() {
        byReference.clear();
        duplicateReferences.set(0);
    }

    /** Entries rejected because the company code already held their reference. */
    public int duplicateReferences() {
        return duplicateReferences.get();
    }

    @Override
    String handle(Element request, String rawXml) throws SoapFault {
        expectElement(request, SFIN_NS, "JournalEntryBulkCreateRequest");
        String bulkId = requireText(require(request, null, "MessageHeader"), null, "ID");
        List<Element> requests = children(request, null, "JournalEntryCreateRequest");
        if (requests.isEmpty()) {
            throw SoapFault.client(missing(request, null, "JournalEntryCreateRequest"));
        }
        // Deserialise everything first: a structural error rejects the whole message before anything is posted.
        List<Entry> entries = new ArrayList<>();
        for (Element r : requests) {
            entries.add(parseEntry(r));
        }
        StringBuilder out = new StringBuilder("<n0:JournalEntryBulkCreateConfirmation xmlns:n0=\"" + SFIN_NS + "\">")
                .append("<MessageHeader>").append(el("ID", newMessageId())).append(el("ReferenceID", bulkId))
                .append(el("CreationDateTime", Instant.now().toString())).append("</MessageHeader>");
        for (Entry entry : entries) {
            out.append(post(entry, rawXml));
        }
        return out.append("</n0:JournalEntryBulkCreateConfirmation>").toString();
    }

    /** How long a processed MessageHeader/UUID is remembered (SAP: WSIDPADMIN); zero turns idempotency off. */
    public void setIdempotencyWindow(Duration window) {
        this.idempotencyWindow = window;
    }

    /** Requests answered from the idempotency store instead of being posted again. */
    public int idempotentReplays() {
        return idempotentReplays.get();
    }

    private String post(Entry e, String rawXml) {
        if (e.uuid() != null && !idempotencyWindow.isZero()) {
            Processed earlier = processedByUuid.get(e.uuid());
            if (earlier != null && earlier.at().plus(idempotencyWindow).isAfter(Instant.now())) {
                idempotentReplays.incrementAndGet();
                return earlier.response();
            }
        }
        return process(e, rawXml);
    }

    private String process(Entry e, String rawXml) {
        List<Issue> issues = validate(e);
        String document = NO_DOCUMENT;
        String fiscalYear = "0000";
        if (issues.isEmpty() && duplicateReferenceCheck && heldReference(e) != null) {
            duplicateReferences.incrementAndGet();
            issues = List.of(error(DUPLICATE, "Error in document: BKPFF " + heldReference(e) + " "
                    + (e.logicalSystem() == null ? "" : e.logicalSystem())),
                    error("117(F5)", "Reference " + heldReference(e) + " already used in company code " + e.companyCode()));
        }
        if (issues.isEmpty()) {
            fiscalYear = String.valueOf(e.postingDate().getYear());
            document = String.format("%010d", numberRanges
                    .computeIfAbsent(e.companyCode() + "/" + fiscalYear, k -> new AtomicLong(NUMBER_RANGE_START))
                    .incrementAndGet());
            List<Line> lines = e.lines().stream()
                    .map(l -> new Line(l.glAccount(), l.amount(), l.debitCreditCode(), l.tax(), l.text())).toList();
            Posting posting = new Posting(e.messageId(), e.uuid(), e.companyCode(), fiscalYear, document,
                    e.documentReferenceId(), e.originalReferenceDocument(), e.headerText(), e.postingDate(),
                    e.lines().get(0).currency(),
                    lines, rawXml, e.createdByUser());
            for (String reference : references(e)) byReference.putIfAbsent(referenceKey(e.companyCode(), reference), posting);
            record(posting);
            issues = List.of(new Issue(POSTED, 1, ("Document posted successfully: BKPFF " + document
                    + e.companyCode() + fiscalYear + " " + (e.logicalSystem() == null ? "" : e.logicalSystem())).trim()));
        } else {
            issues.forEach(i -> reject(i.note()));
        }
        int maxSeverity = issues.stream().mapToInt(Issue::severity).max().orElse(1);
        StringBuilder out = new StringBuilder("<JournalEntryCreateConfirmation><MessageHeader>")
                .append(el("ReferenceID", e.messageId()));
        if (e.uuid() != null) {
            out.append(el("ReferenceUUID", e.uuid()));
        }
        out.append("</MessageHeader><JournalEntryCreateConfirmation>")
                .append(el("AccountingDocument", document)).append(el("CompanyCode", e.companyCode()))
                .append(el("FiscalYear", fiscalYear)).append("</JournalEntryCreateConfirmation><Log>")
                .append(el("MaximumLogItemSeverityCode", String.valueOf(maxSeverity)));
        for (Issue i : issues) {
            out.append("<Item>").append(el("TypeID", i.typeId())).append(el("SeverityCode", String.valueOf(i.severity())))
                    .append(el("Note", i.note())).append("</Item>");
        }
        String response = out.append("</Log></JournalEntryCreateConfirmation>").toString();
        // only what was posted is remembered: a rejected request changed nothing and may be sent again once fixed
        if (maxSeverity < 3 && e.uuid() != null) {
            processedByUuid.put(e.uuid(), new Processed(response, Instant.now()));
        }
        return response;
    }

    private List<Issue> validate(Entry e) {
        List<Issue> issues = new ArrayList<>();
        if (e.companyCode() == null) {
            issues.add(error(REQUIRED, "Company code missing"));
        } else if (!companyExists(e.companyCode())) {
            issues.add(error(NO_COMPANY, "Company code " + e.companyCode() + " does not exist"));
        }
        if (e.documentDate() == null) {
            issues.add(error(REQUIRED, "Document date missing"));
        }
        if (e.postingDate() == null) {
            issues.add(error(REQUIRED, "Posting date missing"));
        }
        if (e.documentType() == null) {
            issues.add(error(REQUIRED, "Accounting document type missing"));
        }
        if (e.lines().size() < 2) {
            issues.add(error(REQUIRED, "At least 2 line items required, found " + e.lines().size()));
        }
        Set<String> currencies = new TreeSet<>();
        BigDecimal balance = BigDecimal.ZERO;
        boolean complete = true;
        for (EntryLine l : e.lines()) {
            if (!l.tax() && l.glAccount() == null) {
                issues.add(error(REQUIRED, "G/L account missing in " + l.label()));
            }
            if (l.tax() && l.taxCode() == null) {
                issues.add(error(REQUIRED, "Tax code missing in " + l.label()));
            }
            if (l.tax() && !l.taxBasePresent()) {
                issues.add(error(REQUIRED, "Tax base amount missing in " + l.label()));
            } else if (l.tax() && l.taxBaseCurrency() == null) {
                issues.add(error(REQUIRED, "Currency missing for tax base amount in " + l.label()));
            } else if (l.tax()) {
                currencies.add(l.taxBaseCurrency());
            }
            if (l.amount() == null) {
                issues.add(error(REQUIRED, "Amount missing in " + l.label()));
                complete = false;
                continue;
            }
            balance = balance.add(l.amount());
            if (l.currency() == null) {
                issues.add(error(REQUIRED, "Currency missing for amount in " + l.label()));
                complete = false;
            } else {
                currencies.add(l.currency());
                OptionalInt digits = fractionDigits(l.currency());
                if (digits.isPresent() && exceedsDigits(l.amount(), digits.getAsInt())) {
                    issues.add(error(INVALID, "Amount " + l.amount().toPlainString() + " in " + l.label()
                            + " has more than " + digits.getAsInt() + " decimals for currency " + l.currency()));
                }
            }
            String signProblem = signProblem(l);
            if (signProblem != null) {
                issues.add(error(INVALID, signProblem));
            }
        }
        for (String currency : currencies) {
            if (fractionDigits(currency).isEmpty()) {
                issues.add(error(INVALID, "Currency " + currency + " is not defined"));
            }
        }
        if (currencies.size() > 1) {
            issues.add(error(INVALID, "All amounts of a journal entry must be in one transaction currency, found "
                    + String.join(", ", currencies)));
        } else if (complete && currencies.size() == 1 && balance.signum() != 0) {
            issues.add(error(UNBALANCED, "Balance in transaction currency " + currencies.iterator().next()
                    + " not zero: " + balance.toPlainString()));
        }
        return issues;
    }

    private static String signProblem(EntryLine l) {
        int sign = l.amount().signum();
        // Zero-rated tax lines are legitimate; G/L lines need an amount.
        boolean zeroAllowed = l.tax() && sign == 0;
        if (l.debitCreditCode() == null) {
            return "Debit/credit code missing in " + l.label();
        }
        return switch (l.debitCreditCode()) {
            case "S" -> sign > 0 || zeroAllowed ? null
                    : "Debit/credit code S requires a positive amount in " + l.label() + ", found " + l.amount().toPlainString();
            case "H" -> sign < 0 || zeroAllowed ? null
                    : "Debit/credit code H requires a negative amount in " + l.label() + ", found " + l.amount().toPlainString();
            default -> "Debit/credit code " + l.debitCreditCode() + " invalid in " + l.label() + " (S or H)";
        };
    }

    private static Entry parseEntry(Element request) throws SoapFault {
        Element header = require(request, null, "MessageHeader");
        String messageId = requireText(header, null, "ID");
        Element je = require(request, null, "JournalEntry");
        // the service's XSD limits (SAP's data elements): a longer value fails the whole message, as at SAP
        for (Object[] f : new Object[][]{{"DocumentReferenceID", 16}, {"OriginalReferenceDocument", 20},
                {"DocumentHeaderText", 25}, {"CompanyCode", 4}, {"CreatedByUser", 12},
                {"OriginalReferenceDocumentLogicalSystem", 10}}) {
            maxLength(je, (String) f[0], (Integer) f[1]);
        }
        List<EntryLine> lines = new ArrayList<>();
        int n = 0;
        for (Element item : children(je, null, "Item")) {
            maxLength(item, "GLAccount", 10);
            maxLength(item, "DocumentItemText", 50);
            lines.add(parseLine(item, "item " + ++n, false));
        }
        n = 0;
        for (Element item : children(je, null, "ProductTaxItem")) {
            maxLength(item, "TaxCode", 2);
            lines.add(parseLine(item, "tax item " + ++n, true));
        }
        return new Entry(messageId, text(header, null, "UUID"), text(je, null, "CompanyCode"),
                text(je, null, "AccountingDocumentType"), parseDate(je, "DocumentDate"), parseDate(je, "PostingDate"),
                text(je, null, "DocumentReferenceID"), text(je, null, "OriginalReferenceDocument"),
                text(je, null, "DocumentHeaderText"), text(je, null, "OriginalReferenceDocumentLogicalSystem"),
                text(je, null, "CreatedByUser"), lines);
    }

    private static void maxLength(Element parent, String field, int max) throws SoapFault {
        String v = text(parent, null, field);
        if (v != null && v.length() > max) {
            throw SoapFault.client("Value '" + (v.length() > 40 ? v.substring(0, 40) + "…" : v) + "' of " + field
                    + " exceeds its maximum length of " + max);
        }
    }

    private static EntryLine parseLine(Element line, String label, boolean tax) throws SoapFault {
        Element amount = child(line, null, "AmountInTransactionCurrency");
        Element base = tax ? child(line, null, "TaxBaseAmountInTransCrcy") : null;
        if (base != null) {
            parseAmount(base, label);
        }
        return new EntryLine(label, text(line, null, "GLAccount"), text(line, null, "TaxCode"),
                amount == null ? null : parseAmount(amount, label), amount == null ? null : currency(amount),
                text(line, null, "DebitCreditCode"), tax, base != null, base == null ? null : currency(base),
                text(line, null, "DocumentItemText"));
    }

    // A value the XML schema cannot take fails deserialisation in SAP's SOAP runtime, hence a fault rather than a log.
    private static BigDecimal parseAmount(Element amount, String label) throws SoapFault {
        String text = textOf(amount);
        if (text == null) {
            return null;
        }
        BigDecimal value = decimal(text);
        if (value == null) {
            throw SoapFault.client("Value '" + text + "' of " + amount.getLocalName() + " in " + label
                    + " is not a valid xsd:decimal");
        }
        return value;
    }

    private static LocalDate parseDate(Element parent, String name) throws SoapFault {
        String text = text(parent, null, name);
        LocalDate value = date(text);
        if (text != null && value == null) {
            throw SoapFault.client("Value '" + text + "' of " + name + " is not a valid xsd:date (yyyy-MM-dd)");
        }
        return value;
    }

    private static String currency(Element amount) {
        String code = amount.getAttribute("currencyCode").trim();
        return code.isEmpty() ? null : code;
    }

    /** The first of the entry's references that the company code already holds, or null. */
    private String heldReference(Entry e) {
        for (String reference : references(e)) {
            if (byReference.containsKey(referenceKey(e.companyCode(), reference))) return reference;
        }
        return null;
    }

    private static List<String> references(Entry e) {
        List<String> out = new ArrayList<>(2);
        if (e.originalReferenceDocument() != null) out.add(e.originalReferenceDocument());
        if (e.documentReferenceId() != null && !e.documentReferenceId().equals(e.originalReferenceDocument())) {
            out.add(e.documentReferenceId());
        }
        return out;
    }

    private static String referenceKey(String companyCode, String reference) {
        return companyCode + "/" + reference.toUpperCase(Locale.ROOT);
    }

    /**
     * {@code GET …/A_OperationalAcctgDocItemCube?$filter=CompanyCode eq '1010' and DocumentReferenceID eq '…'}: the
     * items of the documents matching every condition (eq on CompanyCode, FiscalYear, AccountingDocument,
     * DocumentReferenceID, OriginalReferenceDocument, AccountingDocCreatedByUser; {@code PostingDate ge} and {@code lt}
     * a {@code datetime'yyyy-MM-ddT00:00:00'}; joined by {@code and}), by document and item, as OData V2 JSON
     * ({@code d.results}), with {@code $top}/{@code $skip}; beyond {@link #setMaxPageSize} items the service pages on
     * its own and links the rest ({@code d.__next}). Other filters are refused with 400, as a service refuses what it
     * cannot parse.
     */
    private ReadAnswer read(String path, Map<String, String> query) {
        if (!path.equals(READ_SERVICE + "/" + ITEM_CUBE)) {
            return ReadAnswer.odataError(404, "Resource not found for segment '" + path.substring(path.lastIndexOf('/') + 1) + "'");
        }
        Map<String, String> conditions = new java.util.LinkedHashMap<>();
        LocalDate postedFrom = null;
        LocalDate postedBefore = null;
        String filter = query.getOrDefault("$filter", "").trim();
        if (!filter.isEmpty()) {
            for (String part : filter.split("\\s+and\\s+")) {
                java.util.regex.Matcher range = DATE_RANGE.matcher(part.trim());
                if (range.matches()) {
                    LocalDate date = LocalDate.parse(range.group(2));
                    if (range.group(1).equals("ge")) postedFrom = date;
                    else postedBefore = date;
                    continue;
                }
                java.util.regex.Matcher m = EQ.matcher(part.trim());
                if (!m.matches() || !FILTERABLE.contains(m.group(1))) {
                    return ReadAnswer.odataError(400, "Invalid filter expression: '" + part.trim() + "'");
                }
                conditions.put(m.group(1), m.group(2).replace("''", "'"));
            }
        }
        String order = query.get("$orderby");
        if (order != null && !ORDERABLE.contains(order.replace(" ", ""))) {
            return ReadAnswer.odataError(400, "Invalid $orderby: '" + order + "'");
        }
        int skip = intParam(query.get("$skip"), 0);
        int top = intParam(query.get("$top"), Integer.MAX_VALUE);
        // like a gateway's maximum page size: beyond it the service pages on its own and links the rest (__next)
        int page = Math.min(top, maxPageSize);
        List<Posting> held = postingsSorted(BY_DOCUMENT);
        // a reader following __next asks for the items after the last answer's: resume where that answer stopped
        // instead of counting the skipped items again from the first document (quadratic over a million documents)
        String scan = filter + "|" + order;
        Resume resume = lastRead;
        int start = 0;
        int index = 0;
        if (resume != null && resume.held() == held && resume.scan().equals(scan) && resume.skip() == skip) {
            start = resume.posting();
            index = skip - resume.item();
        }
        StringBuilder results = new StringBuilder();
        int written = 0;
        boolean more = false;
        for (int n = start; n < held.size() && !more; n++) {
            Posting p = held.get(n);
            if (!matches(p, conditions)) continue;
            if (postedFrom != null && (p.postingDate() == null || p.postingDate().isBefore(postedFrom))) continue;
            if (postedBefore != null && (p.postingDate() == null || !p.postingDate().isBefore(postedBefore))) continue;
            int item = 0;
            for (Line line : p.lines()) {
                item++;
                if (index++ < skip) continue;
                if (written >= page) {
                    more = true;
                    lastRead = new Resume(held, scan, skip + written, n, item - 1);
                    break;
                }
                if (written++ > 0) results.append(',');
                results.append(itemJson(p, item, line));
            }
        }
        return ReadAnswer.json(200, odataPage(results, more && page < top, READ_SERVICE + "/" + ITEM_CUBE, query,
                skip + written, top == Integer.MAX_VALUE ? -1 : top - written));
    }

    private volatile int maxPageSize = 5000;

    private static final java.util.Comparator<Posting> BY_DOCUMENT = java.util.Comparator.comparing(Posting::companyCode)
            .thenComparing(Posting::fiscalYear).thenComparing(Posting::accountingDocument);

    /**
     * Where the last read answer stopped: in the sorted postings {@code held}, for the filter and order {@code scan},
     * the item {@code skip} is the {@code item}-th (from 0) of the {@code posting}-th document.
     */
    private record Resume(List<Posting> held, String scan, int skip, int posting, int item) {
    }

    private volatile Resume lastRead;

    /**
     * Journal entries as if each had been posted and accepted (for volume tests and benchmarks: a million entries
     * through the posting service would take longer than what they are loaded to measure). Their references are not
     * checked against those posted.
     */
    public void putPostings(java.util.Collection<Posting> accepted) {
        recordAll(accepted);
    }

    /**
     * An OData V2 JSON page: {@code d.results}, and when {@code more}, {@code d.__next} linking the rest (the same query
     * from {@code skip}, with what is left of {@code $top} when the reader set one, {@code top} &ge; 0).
     */
    private String odataPage(CharSequence results, boolean more, String path, Map<String, String> query, int skip,
                             int top) {
        String next = "";
        if (more) {
            Map<String, String> nextQuery = new java.util.LinkedHashMap<>(query);
            nextQuery.put("$skip", String.valueOf(skip));
            if (top >= 0) nextQuery.put("$top", String.valueOf(top));
            StringBuilder link = new StringBuilder();
            nextQuery.forEach((k, v) -> link.append(link.length() == 0 ? "?" : "&").append(k).append('=')
                    .append(java.net.URLEncoder.encode(v, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20")));
            next = ",\"__next\":\"" + baseUrl() + path + link + "\"";
        }
        return "{\"d\":{\"results\":[" + results + "]" + next + "}}";
    }

    /** The most items one answer of the read service holds; more are linked with {@code __next} (default 5000). */
    public void setMaxPageSize(int items) {
        this.maxPageSize = items;
    }

    private static final java.util.regex.Pattern EQ = java.util.regex.Pattern.compile("(\\w+) eq '((?:[^']|'')*)'");
    private static final Set<String> FILTERABLE = Set.of("CompanyCode", "FiscalYear", "AccountingDocument",
            "DocumentReferenceID", "OriginalReferenceDocument", "AccountingDocCreatedByUser");
    private static final java.util.regex.Pattern DATE_RANGE =
            java.util.regex.Pattern.compile("PostingDate (ge|lt) datetime'(\\d{4}-\\d{2}-\\d{2})T00:00:00'");
    private static final Set<String> ORDERABLE = Set.of("CompanyCode,FiscalYear,AccountingDocument,AccountingDocumentItem");

    private static boolean matches(Posting p, Map<String, String> conditions) {
        for (var c : conditions.entrySet()) {
            String v = switch (c.getKey()) {
                case "CompanyCode" -> p.companyCode();
                case "FiscalYear" -> p.fiscalYear();
                case "AccountingDocument" -> p.accountingDocument();
                case "DocumentReferenceID" -> p.documentReferenceId();
                case "AccountingDocCreatedByUser" -> p.createdByUser();
                default -> p.originalReferenceDocument();
            };
            // SAP keeps both references upper-cased
            if (v == null || !v.toUpperCase(Locale.ROOT).equals(c.getValue().toUpperCase(Locale.ROOT))) return false;
        }
        return true;
    }

    private static int intParam(String value, int fallback) {
        try {
            return value == null ? fallback : Math.max(0, Integer.parseInt(value.trim()));
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    /** One item of the cube as OData V2 JSON: decimals as strings, dates as /Date(ms)/, references upper-cased. */
    private static String itemJson(Posting p, int item, Line line) {
        String amount = line.amount().setScale(Math.max(2, line.amount().scale())).toPlainString();
        long ms = p.postingDate() == null ? 0 : p.postingDate().atStartOfDay(java.time.ZoneOffset.UTC).toInstant().toEpochMilli();
        return "{" + jsonField("CompanyCode", p.companyCode()) + "," + jsonField("FiscalYear", p.fiscalYear()) + ","
                + jsonField("AccountingDocument", p.accountingDocument()) + ","
                + jsonField("AccountingDocumentItem", String.format("%03d", item)) + ","
                + jsonField("GLAccount", line.glAccount() == null ? "" : line.glAccount()) + ","
                + jsonField("DebitCreditCode", line.debitCreditCode()) + ","
                + jsonField("TransactionCurrency", p.currency()) + ","
                + jsonField("AmountInTransactionCurrency", amount) + ","
                + jsonField("DocumentReferenceID", upper(p.documentReferenceId())) + ","
                + jsonField("OriginalReferenceDocument", upper(p.originalReferenceDocument())) + ","
                + jsonField("ReferenceDocumentType", "BKPFF") + ","
                + jsonField("DocumentItemText", line.text() == null ? "" : line.text()) + ","
                + jsonField("AccountingDocumentHeaderText", p.headerText() == null ? "" : p.headerText()) + ","
                + jsonField("AccountingDocCreatedByUser", p.createdByUser() == null ? "" : p.createdByUser()) + ","
                + "\"PostingDate\":\"\\/Date(" + ms + ")\\/\"}";
    }

    /**
     * {@code GET …/API_BUSINESS_PARTNER/A_BusinessPartner}: the partners replicated (or {@link
     * S4BusinessPartnerReplication#putPartner put}), by number ({@code $orderby=BusinessPartner}, the only order
     * served), filtered by {@code CreationDate lt|le|ge datetime'…'} (joined by {@code and}; other filters refused with
     * 400 as a service refuses what it cannot parse), {@code $top}/{@code $skip}, beyond {@link #setMaxPageSize} the
     * rest linked with {@code d.__next}; as OData V2 JSON, the navigations {@code to_BusinessPartnerAddress} (with
     * {@code to_EmailAddress}) and {@code to_Customer} (with {@code to_CustomerCompany}) inline where {@code $expand}
     * names them, {@code __deferred} otherwise.
     */
    private ReadAnswer readPartners(String path, Map<String, String> query) {
        if (!path.equals(PARTNER_SERVICE + "/" + PARTNER_SET)) {
            return ReadAnswer.odataError(404, "Resource not found for segment '" + path.substring(path.lastIndexOf('/') + 1) + "'");
        }
        LocalDate before = null;
        LocalDate from = null;
        String filter = query.getOrDefault("$filter", "").trim();
        if (!filter.isEmpty()) {
            for (String part : filter.split("\\s+and\\s+")) {
                java.util.regex.Matcher m = CREATED.matcher(part.trim());
                if (!m.matches()) return ReadAnswer.odataError(400, "Invalid filter expression: '" + part.trim() + "'");
                LocalDate date = LocalDate.parse(m.group(2));
                switch (m.group(1)) {
                    case "lt" -> before = date;
                    case "le" -> before = date.plusDays(1);
                    default -> from = date;
                }
            }
        }
        String order = query.get("$orderby");
        if (order != null && !order.trim().equals("BusinessPartner") && !order.trim().equals("BusinessPartner asc")) {
            return ReadAnswer.odataError(400, "Invalid $orderby: '" + order + "'");
        }
        String expand = query.getOrDefault("$expand", "");
        boolean addresses = expand.contains("to_BusinessPartnerAddress");
        boolean emails = expand.contains("to_BusinessPartnerAddress/to_EmailAddress");
        boolean companies = expand.contains("to_Customer/to_CustomerCompany");
        int skip = intParam(query.get("$skip"), 0);
        int top = intParam(query.get("$top"), Integer.MAX_VALUE);
        int page = Math.min(top, maxPageSize);
        List<S4BusinessPartnerReplication.Partner> all = new ArrayList<>(businessPartners.partners());
        all.sort(java.util.Comparator.comparing(S4BusinessPartnerReplication.Partner::number));
        StringBuilder results = new StringBuilder();
        int index = 0;
        int written = 0;
        boolean more = false;
        for (S4BusinessPartnerReplication.Partner p : all) {
            if (before != null && !p.createdOn().isBefore(before)) continue;
            if (from != null && p.createdOn().isBefore(from)) continue;
            if (index++ < skip) continue;
            if (written >= page) {
                more = true;
                break;
            }
            if (written++ > 0) results.append(',');
            results.append(partnerJson(p, addresses, emails, companies));
        }
        return ReadAnswer.json(200, odataPage(results, more && page < top, PARTNER_SERVICE + "/" + PARTNER_SET, query,
                skip + written, top == Integer.MAX_VALUE ? -1 : top - written));
    }

    private static final java.util.regex.Pattern CREATED =
            java.util.regex.Pattern.compile("CreationDate (lt|le|ge) datetime'(\\d{4}-\\d{2}-\\d{2})T00:00:00'");

    /** One partner as OData V2 JSON, its navigations inline or deferred. */
    private String partnerJson(S4BusinessPartnerReplication.Partner p, boolean addresses, boolean emails,
                               boolean companies) {
        String self = baseUrl() + PARTNER_SERVICE + "/" + PARTNER_SET + "('" + p.number() + "')";
        long ms = p.createdOn().atStartOfDay(java.time.ZoneOffset.UTC).toInstant().toEpochMilli();
        StringBuilder json = new StringBuilder("{\"__metadata\":{").append(jsonField("id", self)).append(',')
                .append(jsonField("uri", self)).append(',').append(jsonField("type", "API_BUSINESS_PARTNER.A_BusinessPartnerType"))
                .append("},").append(jsonField("BusinessPartner", p.number())).append(',')
                .append(jsonField("BusinessPartnerFullName", p.name() == null ? "" : p.name())).append(',')
                .append(jsonField("BusinessPartnerUUID", p.receiverUuid())).append(',')
                .append(jsonField("BusinessPartnerCategory", p.category() == null ? "" : p.category())).append(',')
                .append("\"CreationDate\":\"\\/Date(").append(ms).append(")\\/\",");
        if (addresses) {
            json.append("\"to_BusinessPartnerAddress\":{\"results\":[");
            if (p.country() != null || p.email() != null) {
                json.append('{').append(jsonField("BusinessPartner", p.number())).append(',')
                        .append(jsonField("AddressID", "1")).append(',')
                        .append(jsonField("Country", p.country() == null ? "" : p.country())).append(',');
                if (emails) {
                    json.append("\"to_EmailAddress\":{\"results\":[");
                    if (p.email() != null) {
                        json.append('{').append(jsonField("AddressID", "1")).append(',').append(jsonField("Person", ""))
                                .append(',').append(jsonField("OrdinalNumber", "1")).append(",\"IsDefaultEmailAddress\":true,")
                                .append(jsonField("EmailAddress", p.email())).append('}');
                    }
                    json.append("]}");
                } else {
                    json.append(deferred("to_EmailAddress", self));
                }
                json.append('}');
            }
            json.append("]},");
        } else {
            json.append(deferred("to_BusinessPartnerAddress", self)).append(',');
        }
        if (companies) {
            json.append("\"to_Customer\":{").append(jsonField("Customer", p.number())).append(",\"to_CustomerCompany\":{\"results\":[");
            int i = 0;
            for (String code : new TreeSet<>(p.companyCodes())) {
                if (i++ > 0) json.append(',');
                json.append('{').append(jsonField("Customer", p.number())).append(',').append(jsonField("CompanyCode", code))
                        .append('}');
            }
            json.append("]}}");
        } else {
            json.append(deferred("to_Customer", self));
        }
        return json.append('}').toString();
    }

    private static String deferred(String navigation, String self) {
        return "\"" + navigation + "\":{\"__deferred\":{" + jsonField("uri", self + "/" + navigation) + "}}";
    }

    /** The business partner read API's URL (the OData service root). */
    public String partnerReadUrl() {
        return baseUrl() + PARTNER_SERVICE;
    }

    private static String upper(String s) {
        return s == null ? "" : s.toUpperCase(Locale.ROOT);
    }

    private static Issue error(String typeId, String note) {
        return new Issue(typeId, 3, note);
    }

    private static String newMessageId() {
        return UUID.randomUUID().toString().replace("-", "").toUpperCase(Locale.ROOT);
    }
}
