package io.interchange.sandbox;

import io.interchange.sandbox.SoapPeerSupport.SoapFault;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.w3c.dom.Element;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

import static io.interchange.sandbox.SoapPeerSupport.child;
import static io.interchange.sandbox.SoapPeerSupport.children;
import static io.interchange.sandbox.SoapPeerSupport.el;
import static io.interchange.sandbox.SoapPeerSupport.escape;
import static io.interchange.sandbox.SoapPeerSupport.expectElement;
import static io.interchange.sandbox.SoapPeerSupport.require;
import static io.interchange.sandbox.SoapPeerSupport.requireText;
import static io.interchange.sandbox.SoapPeerSupport.text;

/**
 * S/4HANA's business partner replication as the simulated ERP serves it: {@code BusinessPartnerSUITEBulkReplicateRequest}
 * taken asynchronously (HTTP 202), each partner saved under the key mapping from (sender system, sender's UUID) to a
 * partner numbered from the ERP's own range, so a partner sent again is changed, never created twice; then a
 * {@code BusinessPartnerSUITEBulkReplicateConfirmation} posted to the sender's confirmation endpoint (Basic auth),
 * one confirmation message per partner with the receiver's number and a log, retried while the endpoint fails as
 * SAP's queue of outbound messages retries.
 */
public final class S4BusinessPartnerReplication implements AutoCloseable {

    static final String NS = "http://sap.com/xi/SAPGlobal20/Global";
    public static final String PATH = "/sap/bc/srt/scs_ext/sap/businesspartnersuitebulkreplic";
    private static final Logger LOG = LoggerFactory.getLogger(S4BusinessPartnerReplication.class);
    private static final long NUMBER_RANGE_START = 1_000_000L;
    private static final int CONFIRMATION_ATTEMPTS = 20;

    /**
     * One partner as the ERP holds it: {@code name} its full name (an organisation's name, a person's first and last
     * name), {@code createdOn} its CreationDate (UTC).
     */
    public record Partner(String number, String receiverUuid, String senderSystem, String senderUuid, String category,
                   String name, String email, String country, Set<String> companyCodes, int saves,
                   java.time.LocalDate createdOn) {
    }

    /** One partner of a request, with the outcome its confirmation reports. */
    private record Outcome(String messageId, String messageUuid, String senderUuid, Partner partner, int severity,
                           String note) {
    }

    private final Predicate<String> companyExists;
    private final String systemId;
    private final ConcurrentMap<String, Partner> byKey = new ConcurrentHashMap<>();
    private final AtomicLong numbers = new AtomicLong(NUMBER_RANGE_START);
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger confirmationsSent = new AtomicInteger();
    private final AtomicInteger confirmationFailures = new AtomicInteger();
    private final ScheduledExecutorService sender = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "S4BusinessPartnerConfirmations");
        t.setDaemon(true);
        return t;
    });
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private volatile URI confirmationUrl;
    private volatile String confirmationAuthorization;
    private volatile Duration confirmationDelay = Duration.ofMillis(50);

    S4BusinessPartnerReplication(Predicate<String> companyExists, String systemId) {
        this.companyExists = companyExists;
        this.systemId = systemId;
    }

    /** Where confirmations go, with the communication user the ERP authenticates as. */
    public void confirmTo(URI url, String user, String password) {
        this.confirmationUrl = url;
        this.confirmationAuthorization = "Basic " + Base64.getEncoder().encodeToString(
                (user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Numbers the next new partners from {@code first}: the sandbox gives each run its own interval of the number range,
     * so that partners of an earlier run, still linked in the store of the same data directory, do not share numbers
     * with this run's.
     */
    public void numbersFrom(long first) {
        numbers.set(first - 1);
    }

    public void setConfirmationDelay(Duration delay) {
        this.confirmationDelay = delay;
    }

    /** Takes a bulk request: structural errors are a SOAP fault now; business errors are in the confirmation. */
    void accept(Element request, String rawXml) throws SoapFault {
        expectElement(request, NS, "BusinessPartnerSUITEBulkReplicateRequest");
        Element header = require(request, null, "MessageHeader");
        String bulkId = requireText(header, null, "ID");
        String senderSystem = requireText(header, null, "SenderBusinessSystemID");
        List<Element> messages = children(request, null, "BusinessPartnerSUITEReplicateRequestMessage");
        if (messages.isEmpty()) {
            throw SoapFault.client("BusinessPartnerSUITEBulkReplicateRequest holds no BusinessPartnerSUITEReplicateRequestMessage");
        }
        List<Element> partners = new ArrayList<>();
        for (Element m : messages) {
            requireText(require(m, null, "MessageHeader"), null, "ID");
            partners.add(require(m, null, "BusinessPartner"));
        }
        requests.incrementAndGet();
        List<Outcome> outcomes = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            Element mh = child(messages.get(i), null, "MessageHeader");
            outcomes.add(save(text(mh, null, "ID"), text(mh, null, "UUID"), senderSystem, partners.get(i)));
        }
        schedule(confirmation(bulkId, senderSystem, outcomes), 1);
    }

    private Outcome save(String messageId, String messageUuid, String senderSystem, Element bp) {
        String senderUuid = text(bp, null, "UUID");
        if (senderUuid == null || senderUuid.isBlank()) {
            return new Outcome(messageId, messageUuid, null, null, 3, "Business partner UUID is missing");
        }
        String category = text(bp, null, "CategoryCode");
        Element common = child(bp, null, "Common");
        String name;
        if ("1".equals(category)) {
            name = common == null || child(common, null, "Person") == null ? null
                    : text(child(child(common, null, "Person"), null, "Name"), null, "FamilyName");
        } else if ("2".equals(category)) {
            name = common == null || child(common, null, "Organisation") == null ? null
                    : text(child(child(common, null, "Organisation"), null, "Name"), null, "FirstLineName");
        } else {
            return new Outcome(messageId, messageUuid, senderUuid, null, 3,
                    "Business partner category " + category + " is not defined");
        }
        if ("1".equals(category) && name != null && !name.isBlank()) {
            // BusinessPartnerFullName, as the read API gives it: a person's first and last name
            String given = text(child(child(common, null, "Person"), null, "Name"), null, "GivenName");
            if (given != null && !given.isBlank()) name = given.strip() + " " + name.strip();
        }
        if (name == null || name.isBlank()) {
            return new Outcome(messageId, messageUuid, senderUuid, null, 3, "1".equals(category)
                    ? "Enter a last name for the person" : "Enter the name of the organization");
        }
        Set<String> companies = new LinkedHashSet<>();
        Element customer = child(bp, null, "Customer");
        if (customer != null) {
            for (Element ai : children(customer, null, "AccountingInformation")) {
                String company = text(ai, null, "CompanyID");
                if (company == null || !companyExists.test(company)) {
                    return new Outcome(messageId, messageUuid, senderUuid, null, 3,
                            "Company code " + company + " does not exist");
                }
                companies.add(company);
            }
        }
        String email = null;
        String country = null;
        Element info = child(bp, null, "AddressInformation");
        if (info != null && child(info, null, "Address") != null) {
            Element address = child(info, null, "Address");
            Element postal = child(address, null, "PostalAddress");
            country = postal == null ? null : text(postal, null, "CountryCode");
            Element mail = child(address, null, "Email");
            email = mail == null ? null : text(mail, null, "URI");
        }
        String key = senderSystem + "|" + senderUuid.toLowerCase();
        String finalName = name;
        String finalEmail = email;
        String finalCountry = country;
        Partner saved = byKey.compute(key, (k, old) -> {
            Set<String> codes = new LinkedHashSet<>(old == null ? Set.of() : old.companyCodes());
            codes.addAll(companies); // the list is sent incomplete: company codes are added, never removed here
            return old == null
                    ? new Partner(String.valueOf(numbers.incrementAndGet()), UUID.randomUUID().toString(), senderSystem,
                    senderUuid, category, finalName, finalEmail, finalCountry, Set.copyOf(codes), 1,
                    java.time.LocalDate.now(java.time.ZoneOffset.UTC))
                    : new Partner(old.number(), old.receiverUuid(), senderSystem, senderUuid, category, finalName,
                    finalEmail, finalCountry, Set.copyOf(codes), old.saves() + 1, old.createdOn());
        });
        return new Outcome(messageId, messageUuid, senderUuid, saved, 1,
                "Business partner " + saved.number() + (saved.saves() == 1 ? " created" : " changed"));
    }

    private String confirmation(String bulkId, String senderSystem, List<Outcome> outcomes) {
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        StringBuilder xml = new StringBuilder("<n0:BusinessPartnerSUITEBulkReplicateConfirmation xmlns:n0=\"" + NS + "\">")
                .append("<MessageHeader>").append(el("ID", UUID.randomUUID().toString().replace("-", "")))
                .append(el("ReferenceID", bulkId)).append(el("CreationDateTime", now))
                .append(el("SenderBusinessSystemID", systemId)).append(el("RecipientBusinessSystemID", senderSystem))
                .append("</MessageHeader>");
        for (Outcome o : outcomes) {
            xml.append("<BusinessPartnerSUITEReplicateConfirmationMessage><MessageHeader>")
                    .append(el("ID", UUID.randomUUID().toString().replace("-", "")))
                    .append(el("ReferenceID", o.messageId()));
            if (o.messageUuid() != null) xml.append(el("ReferenceUUID", o.messageUuid()));
            xml.append(el("CreationDateTime", now)).append("</MessageHeader><BusinessPartner>");
            if (o.senderUuid() != null) xml.append(el("UUID", o.senderUuid()));
            if (o.partner() != null) {
                xml.append(el("ReceiverUUID", o.partner().receiverUuid()))
                        .append(el("ReceiverInternalID", o.partner().number()))
                        .append("<Customer>").append(el("ReceiverInternalID", o.partner().number())).append("</Customer>");
            }
            boolean failed = o.severity() >= 3;
            xml.append("</BusinessPartner><Log>")
                    .append(el("BusinessDocumentProcessingResultCode", failed ? "5" : "3"))
                    .append(el("MaximumLogItemSeverityCode", String.valueOf(o.severity())))
                    .append("<Item>").append(el("TypeID", failed ? "001(BP_DATAREPL_FND)" : "006(BUPA_INTERFACE)"))
                    .append(el("SeverityCode", String.valueOf(o.severity())))
                    .append("<Note>").append(escape(o.note())).append("</Note></Item></Log>")
                    .append("</BusinessPartnerSUITEReplicateConfirmationMessage>");
        }
        xml.append("</n0:BusinessPartnerSUITEBulkReplicateConfirmation>");
        return "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap-env:Envelope xmlns:soap-env=\""
                + SoapPeerSupport.SOAP11_NS + "\"><soap-env:Header/><soap-env:Body>" + xml
                + "</soap-env:Body></soap-env:Envelope>";
    }

    private void schedule(String confirmation, int attempt) {
        long delay = attempt == 1 ? confirmationDelay.toMillis() : Math.min(10_000, 200L << Math.min(attempt, 6));
        sender.schedule(() -> send(confirmation, attempt), delay, TimeUnit.MILLISECONDS);
    }

    private void send(String confirmation, int attempt) {
        URI url = confirmationUrl;
        if (url == null) {
            LOG.warn("No confirmation endpoint configured; business partner confirmation not sent");
            confirmationFailures.incrementAndGet();
            return;
        }
        try {
            HttpResponse<String> answer = http.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "text/xml; charset=utf-8")
                    .header("SOAPAction", "\"http://sap.com/xi/SAPGlobal20/Global/BusinessPartnerSUITEBulkReplicateConfirmation_Out\"")
                    .header("Authorization", confirmationAuthorization)
                    .POST(HttpRequest.BodyPublishers.ofString(confirmation, StandardCharsets.UTF_8)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (answer.statusCode() / 100 == 2) {
                confirmationsSent.incrementAndGet();
                return;
            }
            LOG.info("Business partner confirmation answered {} (attempt {})", answer.statusCode(), attempt);
        } catch (java.io.IOException e) {
            LOG.info("Business partner confirmation not delivered (attempt {}): {}", attempt, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        confirmationFailures.incrementAndGet();
        if (attempt < CONFIRMATION_ATTEMPTS && !sender.isShutdown()) schedule(confirmation, attempt + 1);
    }

    public List<Partner> partners() {
        return List.copyOf(byKey.values());
    }

    /**
     * A partner as if someone had made it in the ERP (a tester, a data migration, a second replication from another
     * sender system), or changed it there when its number is held already: for tests of what reads it.
     */
    public void putPartner(Partner partner) {
        String key = byKey.entrySet().stream().filter(e -> e.getValue().number().equals(partner.number()))
                .map(java.util.Map.Entry::getKey).findFirst()
                .orElse(partner.senderSystem() + "|" + String.valueOf(partner.senderUuid()).toLowerCase());
        byKey.put(key, partner);
    }

    public int requests() {
        return requests.get();
    }

    public int confirmationsSent() {
        return confirmationsSent.get();
    }

    public int confirmationFailures() {
        return confirmationFailures.get();
    }

    @Override
    public void close() {
        sender.shutdownNow();
    }
}
