package io.interchange.flow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.sandbox.StripeApiPeer;
import io.interchange.sandbox.hubspot.HubSpotPeer;
import io.interchange.sandbox.loyalty.LoyaltyPeer;
import io.interchange.sandbox.salesforce.SalesforcePeer;
import io.interchange.store.CrossReferences;
import io.interchange.testkit.CustomerPeers;
import io.interchange.testkit.Databases;
import io.interchange.testkit.HubSpotSigner;
import io.interchange.testkit.RuntimeKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The customer master sync end to end, from HubSpot's signed webhooks through the customer topic to the billing
 * platform's customers (Stripe's API peer) and back to HubSpot's records (batch update), on real Kafka and the store:
 * a contact becomes one customer once it has an e-mail address, with one billing customer and its ids written back;
 * the write-back's own webhooks cause no further writes; a field HubSpot does not own is not applied, and reported;
 * the same new contact announced twice at once makes one billing customer.
 */
class CustomerSyncFlowTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final long PORTAL = 62515;
    static final AtomicLong EVENT_IDS = new AtomicLong(4_000_000);
    static CustomerPeers peers;
    static RuntimeKit kit;
    static StripeApiPeer stripe;
    static HubSpotPeer hubSpot;
    static LoyaltyPeer loyalty;
    static SalesforcePeer salesforce;
    static String SECRET;
    static String STRIPE_KEY;
    static CrossReferences xref;

    @BeforeAll
    static void start() throws Exception {
        peers = new CustomerPeers();
        stripe = peers.stripe;
        hubSpot = peers.hubSpot;
        loyalty = peers.loyalty;
        salesforce = peers.salesforce;
        SECRET = peers.hubSpotSecret;
        STRIPE_KEY = peers.stripeKey;
        Map<String, String> settings = peers.settings();
        // a creation whose holder died is taken over after 3 s here (2 minutes by default)
        settings.put("interchange.idempotency.lease", "PT3S");
        settings.put("interchange.customer.create-wait", "PT1S");
        kit = RuntimeKit.start(Databases.Backend.H2, settings);
        xref = kit.runtime.store().crossReferences();
        peers.confirmTo(kit);
    }

    @AfterAll
    static void stop() {
        if (kit != null) kit.close();
        if (peers != null) peers.close();
    }

    /** One HubSpot webhook event, as HubSpot posts it (an element of the array). */
    static ObjectNode event(String type, String objectId, String property, String value) {
        ObjectNode e = JSON.createObjectNode()
                .put("eventId", EVENT_IDS.incrementAndGet())
                .put("subscriptionId", 2_208_111)
                .put("portalId", PORTAL)
                .put("appId", 1_160_452)
                .put("occurredAt", System.currentTimeMillis())
                .put("subscriptionType", type)
                .put("attemptNumber", 0)
                .put("objectId", Long.parseLong(objectId))
                .put("changeFlag", type.endsWith("creation") ? "CREATED" : "UPDATED")
                .put("changeSource", "CRM_UI")
                .put("sourceId", "userId:1502");
        if (property != null) e.put("propertyName", property).put("propertyValue", value);
        return e;
    }

    static HttpResponse<String> deliver(ObjectNode... events) throws Exception {
        ArrayNode body = JSON.createArrayNode();
        for (ObjectNode e : events) body.add(e);
        byte[] bytes = JSON.writeValueAsBytes(body);
        Map<String, String> headers = new java.util.HashMap<>(HubSpotSigner.headers(SECRET,
                "http://127.0.0.1:" + kit.httpPort + "/webhooks/hubspot", bytes, Instant.now().toEpochMilli()));
        headers.put("Content-Type", "application/json");
        return kit.post("/webhooks/hubspot", bytes, headers);
    }

    static List<JsonNode> stripeCustomersOf(String globalId) {
        return stripe.customers().stream()
                .filter(c -> globalId.equals(c.path("metadata").path("global_customer_id").asText(null))).toList();
    }

    static String globalIdOf(String contactId) {
        return xref.resolve("hubspot", PORTAL + "/contact", contactId).orElse(null);
    }

    static List<ObjectNode> loyaltyMembersOf(String globalId) {
        List<String> customers = loyalty.customers().stream()
                .filter(c -> globalId.equals(c.path("source_id").asText(null))).map(c -> c.path("id").asText()).toList();
        return loyalty.members().stream().filter(m -> customers.contains(m.path("holder_id").asText())).toList();
    }

    static JsonNode hubSpotContact(String id) {
        return hubSpot.records("contacts").stream().filter(r -> r.path("id").asText().equals(id)).findFirst().orElseThrow();
    }

    @Test
    void aContactWithAnEmailBecomesOneCustomerWithOneBillingCustomerAndItsIdsWrittenBackThenSilence() throws Exception {
        String contact = hubSpot.create("contacts", Map.of("email", "ana.silva@example.com"));
        // created first without values (HubSpot sends its properties as events of their own): it waits for a key
        assertThat(deliver(event("contact.creation", contact, null, null)).statusCode()).isEqualTo(200);
        assertThat(deliver(event("contact.propertyChange", contact, "email", "Ana.Silva@example.com ")).statusCode())
                .isEqualTo(200);
        // a field HubSpot may set (anyone may: newer wins) reaches billing
        assertThat(deliver(event("contact.propertyChange", contact, "hs_language", "pt")).statusCode()).isEqualTo(200);

        await().atMost(Duration.ofSeconds(30)).until(() -> globalIdOf(contact) != null
                && !stripeCustomersOf(globalIdOf(contact)).isEmpty()
                && stripeCustomersOf(globalIdOf(contact)).get(0).path("preferred_locales").toString().contains("pt")
                && hubSpotContact(contact).path("properties").has("billing_customer_id")
                && hubSpotContact(contact).path("properties").has("loyalty_member_id"));
        String globalId = globalIdOf(contact);
        JsonNode billing = stripeCustomersOf(globalId).get(0);
        assertThat(loyaltyMembersOf(globalId)).hasSize(1);
        assertThat(hubSpotContact(contact).path("properties").path("loyalty_member_id").asText())
                .isEqualTo(loyaltyMembersOf(globalId).get(0).path("code").asText());
        // the e-mail identified the contact, but Salesforce owns it (mappings/customer/ownership.csv): not applied
        assertThat(billing.path("email").asText("")).isEmpty();
        assertThat(kit.runtime.store().customerFields().find(globalId, "email")).isEmpty();
        JsonNode written = hubSpotContact(contact).path("properties");
        assertThat(written.path("interchange_global_id").asText()).isEqualTo(globalId);
        assertThat(written.path("billing_customer_id").asText()).isEqualTo(billing.path("id").asText());
        assertThat(xref.linkIn(globalId, "billing", "")).hasValueSatisfying(l ->
                assertThat(l.externalId()).isEqualTo(billing.path("id").asText()));

        // the write-back comes back as HubSpot's property-change webhooks: no field maps them, nothing is written
        int stripeRequests = stripe.requests().size();
        int hubSpotWrites = hubSpot.records("contacts").size();
        String updatedAt = hubSpotContact(contact).path("updatedAt").asText();
        deliver(event("contact.propertyChange", contact, "interchange_global_id", globalId),
                event("contact.propertyChange", contact, "billing_customer_id", billing.path("id").asText()));
        await().pollDelay(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5)).until(() -> true);
        assertThat(stripe.requests()).hasSize(stripeRequests);
        assertThat(hubSpot.records("contacts")).hasSize(hubSpotWrites);
        assertThat(hubSpotContact(contact).path("updatedAt").asText()).isEqualTo(updatedAt);
        assertThat(kit.get("/observe/metrics").body()).as("counted as changes that set no field").containsPattern(
                "interchange_customer_sync_changes_total\\{[^}]*outcome=\"no_fields\"[^}]*system=\"hubspot\"");
        assertThat(stripeCustomersOf(globalId)).hasSize(1);
    }

    @Test
    void aNewSalesforceAccountBecomesOneRecordInEachTargetWithItsIdsWrittenBackAndItsEchoesSilent() throws Exception {
        Map<String, Object> fields = new java.util.LinkedHashMap<>();
        fields.put("Name", "Contoso GmbH");
        fields.put("Phone", "+49 89 1234567");
        fields.put("Tax_Id__c", "DE811907980");
        fields.put("Legal_Entity__c", "DE01");
        fields.put("BillingStreet", "Hauptstraße 1");
        fields.put("BillingPostalCode", "80331");
        fields.put("BillingCity", "München");
        fields.put("BillingCountry", "DE");
        String account = salesforce.create("Account", fields);

        await().atMost(Duration.ofSeconds(40)).until(() -> "synced".equals(salesforce.get("Account", account)
                .get("Interchange_Sync_Status__c")) && salesforce.get("Account", account).get("ERP_Partner_Number__c") != null
                && salesforce.get("Account", account).get("Loyalty_Member_Id__c") != null);
        Map<String, Object> written = salesforce.get("Account", account);
        String globalId = (String) written.get("Interchange_Global_Id__c");
        assertThat(globalId).isEqualTo(xref.resolve("salesforce", salesforce.orgId + "/company", account).orElseThrow());
        List<JsonNode> billing = stripeCustomersOf(globalId);
        assertThat(billing).hasSize(1);
        assertThat(billing.get(0).path("name").asText()).isEqualTo("Contoso GmbH");
        assertThat(written.get("Billing_Customer_Id__c")).isEqualTo(billing.get(0).path("id").asText());
        List<String> partners = kit.s4.businessPartners().partners().stream()
                .filter(p -> p.senderUuid().equals(io.interchange.connectors.erp.S4BusinessPartners.partnerUuid(globalId)))
                .map(p -> p.number()).toList();
        assertThat(partners).hasSize(1);
        assertThat(written.get("ERP_Partner_Number__c")).isEqualTo(partners.get(0));
        assertThat(loyaltyMembersOf(globalId)).hasSize(1);
        assertThat(written.get("Loyalty_Member_Id__c")).isEqualTo(loyaltyMembersOf(globalId).get(0).path("code").asText());

        // the write-backs' change events carry this runtime's client id: echoes, nothing more is written anywhere
        int stripeRequests = stripe.requests().size();
        // this account's own last modification: the peer's write list is shared with the class's other tests, whose
        // write-backs may still trail in
        Object stamp = salesforce.get("Account", account).get("SystemModstamp");
        long partnerSaves = kit.s4.businessPartners().partners().stream().filter(p -> p.number().equals(partners.get(0)))
                .mapToLong(p -> p.saves()).sum();
        await().pollDelay(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(4)).until(() -> true);
        assertThat(stripe.requests()).hasSize(stripeRequests);
        assertThat(salesforce.get("Account", account).get("SystemModstamp")).as("nothing written back to the account")
                .isEqualTo(stamp);

        // one edit: one write to each target that takes the field, then silence
        salesforce.update("Account", account, Map.of("Phone", "+49 89 7654321"));
        Object edited = salesforce.get("Account", account).get("SystemModstamp");
        await().atMost(Duration.ofSeconds(30)).until(() -> stripeCustomersOf(globalId).get(0).path("phone").asText()
                .equals("+49 89 7654321"));
        await().pollDelay(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(4)).until(() -> true);
        assertThat(stripe.requests()).as("one update of the billing customer").hasSize(stripeRequests + 1);
        assertThat(kit.s4.businessPartners().partners().stream().filter(p -> p.number().equals(partners.get(0)))
                .mapToLong(p -> p.saves()).sum()).as("one replication of the partner").isEqualTo(partnerSaves + 1);
        assertThat(salesforce.get("Account", account).get("SystemModstamp")).as("nothing new written back to the account")
                .isEqualTo(edited);
        assertThat(stripeCustomersOf(globalId)).hasSize(1);
        assertThat(loyaltyMembersOf(globalId)).hasSize(1);
    }

    @Test
    void manyChangesAtOnceReachTheTargetsInBatchedRequests() throws Exception {
        int writesBefore = salesforce.writes().size();
        List<String> accounts = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            accounts.add(salesforce.create("Account", Map.of("Name", "Batch Customer " + i, "Legal_Entity__c", "FR01",
                    "BillingCountry", "FR")));
        }
        await().atMost(Duration.ofSeconds(90)).until(() -> accounts.stream().allMatch(a -> "synced".equals(
                salesforce.get("Account", a).get("Interchange_Sync_Status__c"))
                && salesforce.get("Account", a).get("Loyalty_Member_Id__c") != null));
        List<SalesforcePeer.Write> writes = salesforce.writes().subList(writesBefore, salesforce.writes().size());
        assertThat(writes).allMatch(w -> w.callOptions() != null && w.callOptions().contains("client="));
        assertThat(writes.stream().mapToInt(SalesforcePeer.Write::records).max().orElse(0))
                .as("write-backs of several accounts share a request").isGreaterThan(1);
        assertThat(writes.size()).as("fewer write-back requests than accounts").isLessThan(accounts.size());
        for (String a : accounts) {
            String globalId = (String) salesforce.get("Account", a).get("Interchange_Global_Id__c");
            assertThat(stripeCustomersOf(globalId)).hasSize(1);
            assertThat(loyaltyMembersOf(globalId)).hasSize(1);
        }
    }

    @Test
    void theSamePersonInSalesforceAndHubSpotIsOneCustomer() throws Exception {
        String sfContact = salesforce.create("Contact", Map.of("FirstName", "Maria", "LastName", "Rossi",
                "Email", "maria.rossi@example.com"));
        await().atMost(Duration.ofSeconds(30)).until(() -> xref.resolve("salesforce", salesforce.orgId + "/contact",
                sfContact).isPresent());
        String globalId = xref.resolve("salesforce", salesforce.orgId + "/contact", sfContact).orElseThrow();

        String hsContact = hubSpot.create("contacts", Map.of("email", "maria.rossi@example.com"));
        deliver(event("contact.creation", hsContact, null, null),
                event("contact.propertyChange", hsContact, "email", " Maria.Rossi@Example.com"));
        await().atMost(Duration.ofSeconds(30)).until(() -> globalIdOf(hsContact) != null
                && hubSpotContact(hsContact).path("properties").has("billing_customer_id"));
        assertThat(globalIdOf(hsContact)).as("matched by the normalised e-mail").isEqualTo(globalId);
        assertThat(stripeCustomersOf(globalId)).hasSize(1);
        assertThat(loyaltyMembersOf(globalId)).hasSize(1);
        assertThat(hubSpotContact(hsContact).path("properties").path("interchange_global_id").asText()).isEqualTo(globalId);
        await().atMost(Duration.ofSeconds(30)).until(() -> globalId.equals(salesforce.get("Contact", sfContact)
                .get("Interchange_Global_Id__c")));
        assertThat(stripeCustomersOf(globalId).get(0).path("name").asText()).isEqualTo("Maria Rossi");
    }

    @Test
    void aRecordThatOnlyMayBeAKnownCustomerIsParkedNotMerged() throws Exception {
        String sfContact = salesforce.create("Contact", Map.of("FirstName", "Tom", "LastName", "Berg",
                "Email", "tom.berg@example.com", "Phone", "+46 8 555 0100"));
        await().atMost(Duration.ofSeconds(30)).until(() -> xref.resolve("salesforce", salesforce.orgId + "/contact",
                sfContact).isPresent());
        String known = xref.resolve("salesforce", salesforce.orgId + "/contact", sfContact).orElseThrow();

        // the same telephone number, nothing else: a possible duplicate (phone does not decide), for an operator
        String hsContact = hubSpot.create("contacts", Map.of("phone", "+46 8 555 0100"));
        deliver(event("contact.propertyChange", hsContact, "phone", "+46 (8) 555 0100"));
        await().atMost(Duration.ofSeconds(30)).until(() -> kit.runtime.store().deadLetters()
                .list("customer.sync", io.interchange.store.DeadLetter.OPEN, 100).stream()
                .anyMatch(d -> d.errorMessage().contains(hsContact)));
        var parked = kit.runtime.store().deadLetters().list("customer.sync", io.interchange.store.DeadLetter.OPEN, 100)
                .stream().filter(d -> d.errorMessage().contains(hsContact)).findFirst().orElseThrow();
        assertThat(parked.errorMessage()).contains("ambiguous customer").contains(known);
        assertThat(globalIdOf(hsContact)).as("not linked by guess").isNull();
    }

    @Test
    void aCreationWhoseHolderDiedBetweenCreateAndLinkIsTakenOverWithoutASecondRecord() throws Exception {
        // an instance claimed the billing customer's creation, reached Stripe, and died before it linked the answer
        String contact = hubSpot.create("contacts", Map.of("email", "ines.duarte@example.com"));
        String globalId = xref.mint();
        xref.link(globalId, "hubspot", PORTAL + "/contact", contact);
        var claim = (CrossReferences.Claimed) xref.claimCreation(globalId, "billing", "");
        HttpResponse<String> created = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest
                .newBuilder(java.net.URI.create(stripe.url() + "/v1/customers"))
                .header("Authorization", "Bearer " + STRIPE_KEY)
                .header("Idempotency-Key", claim.creationKey())
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(io.interchange.connectors.rest.FormBody
                        .of(Map.of("metadata", Map.of("global_customer_id", globalId))).text())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).isEqualTo(200);
        String first = JSON.readTree(created.body()).path("id").asText();

        // the customer's next change takes the creation over once the lease has run out, under the same key
        deliver(event("contact.propertyChange", contact, "hs_language", "pt"));
        await().atMost(Duration.ofSeconds(40)).until(() -> xref.linkIn(globalId, "billing", "").isPresent());
        assertThat(xref.linkIn(globalId, "billing", "").orElseThrow().externalId()).isEqualTo(first);
        assertThat(stripeCustomersOf(globalId)).singleElement().satisfies(c ->
                assertThat(c.path("id").asText()).isEqualTo(first));
    }

    @Test
    void aCustomerWithoutANameWaitsForItsErpPartnerInsteadOfFailing() throws Exception {
        String contact = hubSpot.create("contacts", Map.of("email", "jonas.keller@example.com"));
        // HubSpot may name the legal entity, not the person (Salesforce owns names): no partner can be made yet
        deliver(event("contact.propertyChange", contact, "email", "jonas.keller@example.com"),
                event("contact.propertyChange", contact, "legal_entity", "DE01"));
        await().atMost(Duration.ofSeconds(30)).until(() -> globalIdOf(contact) != null
                && kit.runtime.store().customerFields().find(globalIdOf(contact), "legalEntity").isPresent()
                && hubSpotContact(contact).path("properties").has("loyalty_member_id"));
        String globalId = globalIdOf(contact);
        await().pollDelay(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3)).until(() -> true);
        assertThat(kit.s4.businessPartners().partners()).noneMatch(p -> p.senderUuid().equals(
                io.interchange.connectors.erp.S4BusinessPartners.partnerUuid(globalId)));
        assertThat(xref.recordOf(globalId, "erp-s4hana", "")).isEmpty();
        assertThat(kit.runtime.store().deadLetters().list("customer.sync", io.interchange.store.DeadLetter.OPEN, 100))
                .noneMatch(d -> d.errorMessage().contains(globalId));
        assertThat(kit.get("/observe/metrics").body()).containsPattern(
                "interchange_customer_sync_target_actions_total\\{[^}]*action=\"WAITING\"[^}]*target=\"erp\"");
    }

    @Test
    void aFieldHubSpotDoesNotOwnIsNotAppliedAndIsReported() throws Exception {
        String contact = hubSpot.create("contacts", Map.of("email", "li.wei@example.com"));
        deliver(event("contact.propertyChange", contact, "email", "li.wei@example.com"));
        await().atMost(Duration.ofSeconds(30)).until(() -> globalIdOf(contact) != null
                && hubSpotContact(contact).path("properties").has("billing_customer_id"));
        String globalId = globalIdOf(contact);
        int stripeRequests = stripe.requests().size();

        deliver(event("contact.propertyChange", contact, "phone", "+49 30 1234567"));
        await().atMost(Duration.ofSeconds(30)).until(() -> kit.runtime.store().audit().recent(500).stream()
                .anyMatch(a -> a.target().equals("customer:" + globalId) && a.action().equals("CUSTOMER_FIELD_REFUSED")));
        assertThat(kit.runtime.store().customerFields().find(globalId, "phone")).isEmpty();
        assertThat(kit.get("/observe/metrics").body()).containsPattern(
                "interchange_customer_changes_refused_total\\{[^}]*field=\"phone\"[^}]*system=\"hubspot\"");
        assertThat(stripe.requests()).as("a refused change writes nothing").hasSize(stripeRequests);
    }

    @Test
    void theSameNewContactAnnouncedTwiceAtOnceMakesOneBillingCustomer() throws Exception {
        String contact = hubSpot.create("contacts", Map.of("email", "sam.okafor@example.com"));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Callable<HttpResponse<String>>> deliveries = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                deliveries.add(() -> deliver(event("contact.propertyChange", contact, "email", "sam.okafor@example.com")));
            }
            for (Future<HttpResponse<String>> f : pool.invokeAll(deliveries)) assertThat(f.get().statusCode()).isEqualTo(200);
        } finally {
            pool.shutdown();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> globalIdOf(contact) != null
                && !stripeCustomersOf(globalIdOf(contact)).isEmpty());
        await().pollDelay(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5)).until(() -> true);
        assertThat(stripeCustomersOf(globalIdOf(contact))).hasSize(1);
        await().atMost(Duration.ofSeconds(30)).until(() -> loyaltyMembersOf(globalIdOf(contact)).size() == 1);
        assertThat(loyaltyMembersOf(globalIdOf(contact))).hasSize(1);
    }
}
