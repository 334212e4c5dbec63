package io.interchange.reconciliation;

import com.fasterxml.jackson.databind.JsonNode;
import io.interchange.connectors.billing.StripeApi;
import io.interchange.connectors.crm.SalesforceReader;
import io.interchange.connectors.erp.ErpAccess;
import io.interchange.connectors.erp.ErpConnector;
import io.interchange.customer.BillingCustomers;
import io.interchange.customer.ErpPartners;
import io.interchange.mapping.LegalEntity;
import io.interchange.store.CrossReferences;
import io.interchange.store.CustomerFields;
import org.apache.camel.ProducerTemplate;

import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The sides of a customer reconciliation, each read from the system itself, page by page, each record keyed by the
 * cross-reference ({@link CrossReferences#resolveAll}, one query per page) and its master data normalised
 * ({@link CustomerMaster}):
 * <ul>
 *   <li>CRM: Salesforce Accounts of the entity ({@code Legal_Entity__c}, the org's custom field the customer mapping
 *   reads), by SOQL through camel-salesforce ({@code queryAll}, {@code nextRecordsUrl}); deleted ones left out. Their
 *   name and billing country (an Account keeps no e-mail). Contacts carry no legal entity in this org's schema and are
 *   no entity's customers yet, as the sync gives them no ERP partner.</li>
 *   <li>Billing: Stripe's customers ({@code GET /v1/customers}, {@code starting_after}, the billing API's rate limit),
 *   of the entity their {@code metadata.legal_entity} names, else the one the customer master records for their
 *   global customer (the CRM's {@code legalEntity}, which a billing customer does not carry). Name, e-mail, address
 *   country. A customer naming no entity and linked to none belongs to no entity's run (counted, not compared).</li>
 *   <li>ERP: S/4HANA's business partners ({@code API_BUSINESS_PARTNER}, through the ERP's throttle) that are customers
 *   of the entity's company code (name, e-mail and country of the default address), or the legacy ERP's customers of
 *   its legacy company ({@code ListCustomers} of its customer service).</li>
 * </ul>
 */
final class CustomerSides {

    /** Fields of an Account the CRM side selects (Id, IsDeleted, SystemModstamp are added by the reader). */
    static final List<String> ACCOUNT_FIELDS = List.of("Name", "BillingCountry", "Legal_Entity__c", "CreatedDate");
    static final String ACCOUNT_ENTITY_FIELD = "Legal_Entity__c";
    static final String SALESFORCE = "salesforce";
    private static final int PAGE = 100;

    private final CrossReferences crossReferences;
    private final CustomerFields customerFields;

    CustomerSides(CrossReferences crossReferences, CustomerFields customerFields) {
        this.crossReferences = crossReferences;
        this.customerFields = customerFields;
    }

    /** The entity's Salesforce Accounts created before {@code before}; the number read. */
    long crm(SalesforceReader reader, LegalEntity entity, Instant before, Consumer<CustomerMaster.Record> sink) {
        List<JsonNode> page = new ArrayList<>();
        long[] n = {0};
        reader.createdBefore("Account", before, ACCOUNT_ENTITY_FIELD, entity.id(), account -> {
            if (account.path("IsDeleted").asBoolean(false)) return;
            page.add(account);
            if (page.size() >= PAGE) n[0] += flushAccounts(page, entity.timeZone(), sink);
        });
        n[0] += flushAccounts(page, entity.timeZone(), sink);
        return n[0];
    }

    private long flushAccounts(List<JsonNode> page, ZoneId zone, Consumer<CustomerMaster.Record> sink) {
        Map<String, String> linked = crossReferences.resolveAll(SALESFORCE, page.stream().map(a -> a.path("Id").asText()).toList());
        for (JsonNode a : page) {
            String id = a.path("Id").asText();
            sink.accept(new CustomerMaster.Record(SALESFORCE, id, linked.get(id), date(a.path("CreatedDate").asText(null), zone),
                    CustomerMaster.normalised(text(a, "Name"), null, text(a, "BillingCountry"), Set.of("name", "country"))));
        }
        int n = page.size();
        page.clear();
        return n;
    }

    /** HubSpot's contact properties read, and its company properties (legal_entity is this portal's property). */
    static final List<String> HUBSPOT_CONTACT = List.of("email", "firstname", "lastname", "legal_entity");
    static final List<String> HUBSPOT_COMPANY = List.of("name", "legal_entity");
    static final String HUBSPOT = "hubspot";

    /**
     * The entity's HubSpot contacts and companies ({@code legal_entity}, the property the customer mapping reads)
     * created before {@code before}, by CRM v3's list (HubSpot's list cannot filter: the entity is picked here); a
     * contact's name and e-mail, a company's name. The number read.
     */
    long hubSpot(io.interchange.connectors.crm.HubSpotCrm crm, LegalEntity entity, Instant before,
                 Consumer<CustomerMaster.Record> sink) {
        long[] n = {0};
        for (String type : List.of("contacts", "companies")) {
            boolean contact = type.equals("contacts");
            crm.listPages(type, contact ? HUBSPOT_CONTACT : HUBSPOT_COMPANY, PAGE, page -> {
                List<JsonNode> mine = page.stream().filter(r -> entity.id().equals(text(r.path("properties"), "legal_entity")))
                        .filter(r -> created(r) == null || created(r).isBefore(before)).toList();
                Map<String, String> linked = crossReferences.resolveAll(HUBSPOT, mine.stream().map(r -> r.path("id").asText()).toList());
                for (JsonNode r : mine) {
                    JsonNode p = r.path("properties");
                    String name = contact ? String.join(" ", java.util.stream.Stream.of(text(p, "firstname"),
                            text(p, "lastname")).filter(java.util.Objects::nonNull).toList()) : text(p, "name");
                    Instant created = created(r);
                    n[0]++;
                    sink.accept(new CustomerMaster.Record(HUBSPOT, r.path("id").asText(), linked.get(r.path("id").asText()),
                            created == null ? null : created.atZone(entity.timeZone()).toLocalDate(),
                            CustomerMaster.normalised(name, text(p, "email"), null,
                                    contact ? Set.of("name", "email") : Set.of("name"))));
                }
            });
        }
        return n[0];
    }

    private static Instant created(JsonNode record) {
        try {
            return record.hasNonNull("createdAt") ? Instant.parse(record.path("createdAt").asText()) : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** Billing customers of the entity created before {@code before}; the number read, and those of no entity. */
    long[] billing(StripeApi api, String apiVersion, LegalEntity entity, Instant before,
                   Consumer<CustomerMaster.Record> sink) {
        long[] counts = {0, 0};
        api.listCustomerPages(before.getEpochSecond(), apiVersion, PAGE, page -> {
            Map<String, String> linked = crossReferences.resolveAll(BillingCustomers.SYSTEM,
                    page.stream().map(c -> c.path("id").asText()).toList());
            // the entity the customer master records, for the page's customers whose metadata names none
            Map<String, String> recorded = customerFields.valuesOf("legalEntity", page.stream()
                    .filter(c -> text(c.path("metadata"), "legal_entity") == null)
                    .map(c -> linked.get(c.path("id").asText())).filter(java.util.Objects::nonNull).toList());
            for (JsonNode c : page) {
                String id = c.path("id").asText();
                String globalId = linked.get(id);
                String named = text(c.path("metadata"), "legal_entity");
                if (named == null && globalId != null) named = recorded.get(globalId);
                if (named == null) {
                    counts[1]++;
                    continue;
                }
                if (!named.equals(entity.id())) continue;
                counts[0]++;
                sink.accept(new CustomerMaster.Record(BillingCustomers.SYSTEM, id, globalId,
                        c.hasNonNull("created") ? Instant.ofEpochSecond(c.path("created").asLong())
                                .atZone(entity.timeZone()).toLocalDate() : null,
                        CustomerMaster.normalised(text(c, "name"), text(c, "email"), text(c.path("address"), "country"),
                                Set.of("name", "email", "country"))));
            }
        });
        return counts;
    }

    /**
     * The ERP's customers of the entity created before {@code before}: S/4HANA's business partners of the entity's
     * company code ({@code target} S4HANA), or the legacy ERP's customers of its legacy company; the number read.
     */
    long erp(ErpAccess access, ProducerTemplate template, String target, LegalEntity entity, LocalDate before,
             Consumer<CustomerMaster.Record> sink) {
        boolean s4 = LegalEntity.S4HANA.equals(target);
        String company = s4 ? entity.companyCode() : entity.legacyCompany();
        String system = s4 ? ErpPartners.S4_SYSTEM : ErpPartners.LEGACY_SYSTEM;
        long n = 0;
        String cursor = null;
        do {
            ErpConnector.PartnerPage page = access.readPartnerPage(template, target, company, before, cursor, PAGE);
            List<ErpConnector.Partner> mine = page.partners().stream()
                    .filter(p -> p.companyCodes().contains(company)).toList();
            Map<String, String> linked = crossReferences.resolveAll(system,
                    mine.stream().map(ErpConnector.Partner::number).toList());
            for (ErpConnector.Partner p : mine) {
                n++;
                Map<String, String> fields = new java.util.LinkedHashMap<>(CustomerMaster.normalised(p.name(), p.email(),
                        p.country(), Set.of("name", "email", "country")));
                // a name as long as the sync writes it there may be the beginning of a longer one
                if (p.name() != null && p.name().strip().length() >= (s4 ? S4_NAME_CHARS : LEGACY_NAME_CHARS)) {
                    fields.put(CustomerMaster.NAME_CLIPPED, "true");
                }
                sink.accept(new CustomerMaster.Record(system, p.number(), linked.get(p.number()), p.createdOn(), fields));
            }
            cursor = page.next();
        } while (cursor != null);
        return n;
    }

    /**
     * The longest names the sync writes to each ERP: mappings/sap/business-partner.jslt clips a company's name to 40
     * characters, mappings/legacy-erp/upsert-customer.jslt to 80.
     */
    static final int S4_NAME_CHARS = 40;
    static final int LEGACY_NAME_CHARS = 80;

    private static String text(JsonNode node, String field) {
        JsonNode v = node.path(field);
        return v.isTextual() && !v.asText().isBlank() ? v.asText() : null;
    }

    /** Salesforce's dateTime ({@code 2026-12-05T23:31:22.000+0000}) as its date in {@code zone}, or null. */
    static LocalDate date(String text, ZoneId zone) {
        if (text == null) return null;
        try {
            return OffsetDateTime.parse(text, SALESFORCE_DATE_TIME).atZoneSameInstant(zone).toLocalDate();
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** Salesforce's REST API writes dateTime fields with milliseconds and an offset without a colon. */
    private static final DateTimeFormatter SALESFORCE_DATE_TIME = new DateTimeFormatterBuilder()
            .append(DateTimeFormatter.ISO_LOCAL_DATE_TIME).appendPattern("[XXX][XX][X]").toFormatter(Locale.ROOT);
}
