package io.interchange.sandbox;

import com.sun.net.httpserver.Headers;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicLong;
import org.w3c.dom.Element;

/**
 * In-process legacy ERP ledger SOAP 1.1 service for legal entities not yet migrated to S/4HANA: {@code PostJournal}
 * (SOAPAction {@value #SOAP_ACTION}), the lookup by reference {@code FindJournal} (SOAPAction
 * {@value #FIND_ACTION}), which answers every journal the ledger holds under a reference, the read of a company's
 * journals over a range of posting dates, page by page, {@code ListJournals} (SOAPAction {@value #LIST_ACTION}); and
 * its customer service
 * {@code UpsertCustomer} at {@value #CUSTOMERS_PATH} (SOAPAction {@value #CUSTOMER_ACTION}), keyed per company by the
 * caller's external key, with the read of a company's customers page by page, {@code ListCustomers} (SOAPAction
 * {@value #LIST_CUSTOMERS_ACTION}).
 *
 * <p>The ledger keeps references unique. A second journal under one is refused with a
 * {@code Client.DuplicateReference} fault that names the document it holds, or, with
 * {@link #setNamesDuplicateDocument} off (as a stricter ledger does), without naming it.
 */
public final class LegacyErpPeer extends SoapPeerSupport<LegacyErpPeer.Posting> {

    public static final String PATH = "/legacy/ledger";
    public static final String NS = "urn:interchange:legacy-erp:ledger:v1";
    public static final String SOAP_ACTION = "\"urn:PostJournal\"";
    public static final String FIND_ACTION = "\"urn:FindJournal\"";
    public static final String LIST_ACTION = "\"urn:ListJournals\"";
    public static final String CUSTOMERS_PATH = "/legacy/customers";
    public static final String CUSTOMERS_NS = "urn:interchange:legacy-erp:customers:v1";
    public static final String CUSTOMER_ACTION = "\"urn:UpsertCustomer\"";
    public static final String LIST_CUSTOMERS_ACTION = "\"urn:ListCustomers\"";

    /**
     * One customer of a company, under the caller's external key; {@code saves} counts creations and changes,
     * {@code createdOn} the day it was created.
     */
    public record Customer(String company, String externalKey, String number, String name, String email,
                           String country, String taxId, int saves, LocalDate createdOn) {
    }

    /** One accepted journal; {@code rawXml} is the request as received. */
    public record Posting(String company, String reference, String fiscalYear, String documentNumber,
                          String currency, List<Line> lines, String rawXml, LocalDate postingDate) {
        public Posting {
            lines = List.copyOf(lines);
        }
    }

    /** One journal line: side D (debit) or C (credit) with a positive amount, and its text (or null). */
    public record Line(String account, String side, BigDecimal amount, String text) {
    }

    // one global range, never restarted (reset() keeps it), like the legacy system's document counter
    private final AtomicLong documentSequence = new AtomicLong();
    private final java.util.concurrent.ConcurrentMap<String, String[]> byReference = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicInteger duplicateReferences = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.ConcurrentMap<String, Posting> postingByReference = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicInteger finds = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean namesDuplicateDocument = true;
    private final java.util.concurrent.ConcurrentMap<String, Customer> customersByKey = new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicLong customerSequence = new AtomicLong();

    public LegacyErpPeer(int port, String user, String password, Map<String, String> companyCurrency) {
        super(port, PATH, "soap", user, password, companyCurrency);
        serveSoap(CUSTOMERS_PATH, (request, raw) -> "ListCustomers".equals(request.getLocalName())
                ? listCustomers(request) : upsertCustomer(request, raw));
    }

    /**
     * Numbers the next customers from {@code first} (C + seven digits) instead of from 1, as an ERP whose number range
     * has been in use: the sandbox gives each run its own range, so that customers of an earlier run, still linked in
     * the store of the same data directory, do not share numbers with this run's.
     */
    public void customerNumbersFrom(long first) {
        customerSequence.set(first - 1);
    }

    /** The customer service's URL. */
    public String customersUrl() {
        return baseUrl() + CUSTOMERS_PATH;
    }

    /** The customers the legacy ERP holds, one per (company, external key). */
    public List<Customer> customers() {
        return List.copyOf(customersByKey.values());
    }

    /**
     * {@code UpsertCustomer}: the customer of a company with the caller's external key is created, or changed if the
     * company holds one under that key already; the answer names its number and whether it was created. A customer
     * is never created twice for one key, so the caller may send again whatever it is unsure of.
     */
    private String upsertCustomer(Element request, String rawXml) throws SoapFault {
        expectElement(request, CUSTOMERS_NS, "UpsertCustomer");
        List<String> problems = new ArrayList<>();
        String company = text(request, CUSTOMERS_NS, "Company");
        String key = text(request, CUSTOMERS_NS, "ExternalKey");
        String name = text(request, CUSTOMERS_NS, "Name");
        if (company == null) problems.add(missing(request, CUSTOMERS_NS, "Company"));
        else if (!companyExists(company)) problems.add("Unknown company " + company);
        if (key == null) problems.add(missing(request, CUSTOMERS_NS, "ExternalKey"));
        else if (key.length() > 64) problems.add("ExternalKey longer than 64 characters");
        if (name == null) problems.add(missing(request, CUSTOMERS_NS, "Name"));
        else if (name.length() > 80) problems.add("Name longer than 80 characters");
        String country = text(request, CUSTOMERS_NS, "Country");
        if (country != null && !country.matches("[A-Z]{2}")) problems.add("Country must be two capital letters, got " + country);
        if (!problems.isEmpty()) {
            String message = String.join("; ", problems);
            reject(message);
            throw SoapFault.client(message);
        }
        boolean[] created = {false};
        Customer saved = customersByKey.compute(company + "|" + key, (k, old) -> {
            String number = old != null ? old.number() : String.format("C%07d", customerSequence.incrementAndGet());
            created[0] = old == null;
            return new Customer(company, key, number, name, text(request, CUSTOMERS_NS, "Email"), country,
                    text(request, CUSTOMERS_NS, "TaxId"), old == null ? 1 : old.saves() + 1,
                    old == null ? LocalDate.now(java.time.ZoneOffset.UTC) : old.createdOn());
        });
        return "<c:UpsertCustomerResponse xmlns:c=\"" + CUSTOMERS_NS + "\">" + el("c:CustomerNumber", saved.number())
                + el("c:Created", String.valueOf(created[0])) + "</c:UpsertCustomerResponse>";
    }

    /**
     * A customer as if someone had made it in the legacy ERP by hand, or changed it there when its company holds its
     * number already: for tests of what reads it.
     */
    public void putCustomer(Customer customer) {
        String key = customersByKey.entrySet().stream().filter(e -> e.getValue().number().equals(customer.number()))
                .map(Map.Entry::getKey).findFirst().orElse(customer.company() + "|" + customer.externalKey());
        customersByKey.put(key, customer);
    }

    /**
     * {@code ListCustomers} (SOAPAction {@value #LIST_CUSTOMERS_ACTION}): a company's customers created before
     * {@code CreatedBefore} (optional), by number, after the number {@code After} (optional), at most
     * {@code MaxCustomers} (1 to 1000), with {@code More} saying whether others follow; as {@code ListJournals}.
     */
    private String listCustomers(Element request) throws SoapFault {
        String company = text(request, CUSTOMERS_NS, "Company");
        String beforeText = text(request, CUSTOMERS_NS, "CreatedBefore");
        String after = text(request, CUSTOMERS_NS, "After");
        List<String> problems = new ArrayList<>();
        if (company == null) problems.add(missing(request, CUSTOMERS_NS, "Company"));
        LocalDate before = beforeText == null ? null : date(beforeText);
        if (beforeText != null && before == null) problems.add("CreatedBefore must be a date in yyyy-MM-dd format");
        int max;
        try {
            max = Integer.parseInt(String.valueOf(text(request, CUSTOMERS_NS, "MaxCustomers")));
        } catch (NumberFormatException e) {
            max = -1;
        }
        if (max < 1 || max > 1000) problems.add("MaxCustomers must be 1 to 1000");
        if (!problems.isEmpty()) throw SoapFault.client(String.join("; ", problems));
        List<Customer> matching = new ArrayList<>();
        for (Customer c : customersByKey.values()) {
            if (c.company().equals(company) && (before == null || c.createdOn().isBefore(before))
                    && (after == null || c.number().compareTo(after) > 0)) {
                matching.add(c);
            }
        }
        matching.sort(java.util.Comparator.comparing(Customer::number));
        StringBuilder out = new StringBuilder("<c:ListCustomersResponse xmlns:c=\"" + CUSTOMERS_NS + "\">");
        for (Customer c : matching.subList(0, Math.min(max, matching.size()))) {
            out.append("<c:Customer>").append(el("c:CustomerNumber", c.number())).append(el("c:Company", c.company()))
                    .append(el("c:ExternalKey", c.externalKey())).append(el("c:Name", c.name()));
            if (c.email() != null) out.append(el("c:Email", c.email()));
            if (c.country() != null) out.append(el("c:Country", c.country()));
            out.append(el("c:Created", c.createdOn().toString())).append("</c:Customer>");
        }
        return out.append(el("c:More", String.valueOf(matching.size() > max))).append("</c:ListCustomersResponse>").toString();
    }

    /** Whether a duplicate-reference fault names the document the ledger holds (on by default). */
    public void setNamesDuplicateDocument(boolean on) {
        this.namesDuplicateDocument = on;
    }

    /** FindJournal requests answered. */
    public int finds() {
        return finds.get();
    }

    @Override
    void onReset() {
        byReference.clear();
        postingByReference.clear();
        finds.set(0);
        duplicateReferences.set(0);
    }

    @Override
    void checkHeaders(Headers headers) throws SoapFault {
        String action = headers.getFirst("SOAPAction");
        if (!SOAP_ACTION.equals(action) && !FIND_ACTION.equals(action) && !LIST_ACTION.equals(action)
                && !CUSTOMER_ACTION.equals(action) && !LIST_CUSTOMERS_ACTION.equals(action)) {
            throw new SoapFault(400, "Client", "SOAPAction must be " + SOAP_ACTION + ", " + FIND_ACTION + ", "
                    + LIST_ACTION + ", " + CUSTOMER_ACTION + " or " + LIST_CUSTOMERS_ACTION + ", got " + action);
        }
    }

    @Override
    String handle(Element request, String rawXml) throws SoapFault {
        if ("FindJournal".equals(request.getLocalName())) {
            return find(request);
        }
        if ("ListJournals".equals(request.getLocalName())) {
            return list(request);
        }
        expectElement(request, NS, "PostJournal");
        List<String> problems = new ArrayList<>();
        String company = field(request, "Company", "", problems);
        String reference = field(request, "Reference", "", problems);
        String currency = field(request, "Currency", "", problems);
        String dateText = field(request, "PostingDate", "", problems);
        LocalDate postingDate = date(dateText);
        if (dateText != null && postingDate == null) {
            problems.add("PostingDate '" + dateText + "' is not a date in yyyy-MM-dd format");
        }
        if (company != null && !companyExists(company)) {
            problems.add("Unknown company " + company);
        }
        OptionalInt digits = fractionDigits(currency);
        if (currency != null && digits.isEmpty()) {
            problems.add("Unknown currency " + currency);
        }
        List<Element> lineElements = children(request, NS, "Line");
        if (lineElements.isEmpty()) {
            problems.add(missing(request, NS, "Line"));
        }
        List<Line> lines = new ArrayList<>();
        BigDecimal debits = BigDecimal.ZERO;
        BigDecimal credits = BigDecimal.ZERO;
        for (int i = 0; i < lineElements.size(); i++) {
            Element line = lineElements.get(i);
            String prefix = "Line " + (i + 1) + ": ";
            String account = field(line, "Account", prefix, problems);
            String side = field(line, "Side", prefix, problems);
            String amountText = field(line, "Amount", prefix, problems);
            BigDecimal amount = decimal(amountText);
            if (amountText != null && amount == null) {
                problems.add(prefix + "Amount '" + amountText + "' is not a decimal");
            } else if (amount != null && amount.signum() <= 0) {
                problems.add(prefix + "Amount must be positive, got " + amount.toPlainString());
            } else if (amount != null && digits.isPresent() && exceedsDigits(amount, digits.getAsInt())) {
                problems.add(prefix + "Amount " + amount.toPlainString() + " has more than " + digits.getAsInt()
                        + " decimals for " + currency);
            }
            if (side != null && !side.equals("D") && !side.equals("C")) {
                problems.add(prefix + "Side must be D or C, got " + side);
            }
            if (amount != null && "D".equals(side)) {
                debits = debits.add(amount);
            } else if (amount != null && "C".equals(side)) {
                credits = credits.add(amount);
            }
            lines.add(new Line(account, side, amount, text(line, NS, "Text")));
        }
        if (problems.isEmpty() && debits.compareTo(credits) != 0) {
            problems.add("Journal not balanced: debits " + debits.toPlainString() + " != credits " + credits.toPlainString());
        }
        if (!problems.isEmpty()) {
            String message = String.join("; ", problems);
            reject(message);
            throw SoapFault.client(message);
        }
        String fiscalYear = String.valueOf(postingDate.getYear());
        // the ledger keeps references unique: a second journal with one is refused, naming the document it has
        String[] existing = byReference.get(reference);
        if (existing != null) {
            duplicateReferences.incrementAndGet();
            throw new SoapFault(500, "Client.DuplicateReference", "Reference " + reference + " already posted"
                    + (namesDuplicateDocument ? " as document " + existing[0] + " in fiscal year " + existing[1] : ""));
        }
        String documentNumber = String.format("LG%08d", documentSequence.incrementAndGet());
        if (byReference.putIfAbsent(reference, new String[]{documentNumber, fiscalYear}) != null) {
            throw new SoapFault(500, "Client.DuplicateReference", "Reference " + reference + " is being posted");
        }
        Posting posting = new Posting(company, reference, fiscalYear, documentNumber, currency, lines, rawXml, postingDate);
        postingByReference.put(reference, posting);
        record(posting);
        return "<l:PostJournalResponse xmlns:l=\"" + NS + "\">" + el("l:DocumentNumber", documentNumber)
                + el("l:FiscalYear", fiscalYear) + "</l:PostJournalResponse>";
    }

    /** The journals held under a reference (none or one: references are unique), with their lines. */
    private String find(Element request) throws SoapFault {
        expectElement(request, NS, "FindJournal");
        String reference = text(request, NS, "Reference");
        if (reference == null) {
            throw SoapFault.client(missing(request, NS, "Reference"));
        }
        finds.incrementAndGet();
        StringBuilder out = new StringBuilder("<l:FindJournalResponse xmlns:l=\"" + NS + "\">");
        Posting p = postingByReference.get(reference);
        if (p != null) journal(out, p);
        return out.append("</l:FindJournalResponse>").toString();
    }

    private static void journal(StringBuilder out, Posting p) {
        out.append("<l:Journal>").append(el("l:Company", p.company())).append(el("l:Reference", p.reference()))
                .append(el("l:DocumentNumber", p.documentNumber())).append(el("l:FiscalYear", p.fiscalYear()))
                .append(el("l:PostingDate", String.valueOf(p.postingDate()))).append(el("l:Currency", p.currency()));
        for (Line line : p.lines()) {
            out.append("<l:Line>").append(el("l:Account", line.account())).append(el("l:Side", line.side()))
                    .append(el("l:Amount", line.amount().toPlainString()));
            if (line.text() != null) out.append(el("l:Text", line.text()));
            out.append("</l:Line>");
        }
        out.append("</l:Journal>");
    }

    /**
     * {@code ListJournals}: a company's journals posted from {@code PostedFrom} up to, not including,
     * {@code PostedBefore}, by document number, after the number {@code After} (optional), at most
     * {@code MaxJournals} (1 to 1000), with {@code More} saying whether others follow.
     */
    private String list(Element request) throws SoapFault {
        expectElement(request, NS, "ListJournals");
        List<String> problems = new ArrayList<>();
        String company = field(request, "Company", "", problems);
        LocalDate from = date(field(request, "PostedFrom", "", problems));
        LocalDate before = date(field(request, "PostedBefore", "", problems));
        String after = text(request, NS, "After");
        int max;
        try {
            max = Integer.parseInt(String.valueOf(field(request, "MaxJournals", "", problems)));
        } catch (NumberFormatException e) {
            max = -1;
        }
        if (problems.isEmpty() && (from == null || before == null)) problems.add("PostedFrom and PostedBefore must be dates in yyyy-MM-dd format");
        if (problems.isEmpty() && (max < 1 || max > 1000)) problems.add("MaxJournals must be 1 to 1000");
        if (!problems.isEmpty()) throw SoapFault.client(String.join("; ", problems));
        List<Posting> matching = new ArrayList<>();
        for (Posting p : postings()) {
            if (p.company().equals(company) && !p.postingDate().isBefore(from) && p.postingDate().isBefore(before)
                    && (after == null || p.documentNumber().compareTo(after) > 0)) {
                matching.add(p);
            }
        }
        matching.sort(java.util.Comparator.comparing(Posting::documentNumber));
        StringBuilder out = new StringBuilder("<l:ListJournalsResponse xmlns:l=\"" + NS + "\">");
        for (Posting p : matching.subList(0, Math.min(max, matching.size()))) journal(out, p);
        return out.append(el("l:More", String.valueOf(matching.size() > max))).append("</l:ListJournalsResponse>").toString();
    }

    /** Journals refused because their reference was already posted. */
    public int duplicateReferences() {
        return duplicateReferences.get();
    }

    private static String field(Element parent, String name, String prefix, List<String> problems) {
        String value = text(parent, NS, name);
        if (value == null) {
            problems.add(prefix + (child(parent, NS, name) == null ? missing(parent, NS, name) : name + " is empty"));
        }
        return value;
    }
}
