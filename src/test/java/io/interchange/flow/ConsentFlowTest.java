package io.interchange.flow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.connectors.rest.FormBody;
import io.interchange.sandbox.loyalty.VoucherifySigner;
import io.interchange.sandbox.mailchimp.MailchimpPeer;
import io.interchange.store.ConsentStates;
import io.interchange.store.CrossReferences;
import io.interchange.testkit.CustomerPeers;
import io.interchange.testkit.Databases;
import io.interchange.testkit.HubSpotSigner;
import io.interchange.testkit.RuntimeKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Consent end to end on real Kafka, H2 and the peers (Mailchimp, HubSpot, Salesforce, the loyalty platform): a
 * customer linked in all four; a change from any of them reaches the others within seconds, an older value never
 * overwrites a newer one, a revocation wins a tie, and the echoes of our own writes change nothing.
 */
class ConsentFlowTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final long PORTAL = 62515;
    static final String LIST = "a1b2c3d4e5";
    static final String MAILCHIMP_SECRET = "mc-" + UUID.randomUUID();
    static final String LOYALTY_SECRET = "loyalty-" + UUID.randomUUID();
    static final AtomicLong EVENT_IDS = new AtomicLong(7_000_000);
    static final Duration WITHIN = Duration.ofSeconds(15);
    static final String SUBSCRIPTION = CustomerPeers.HUBSPOT_SUBSCRIPTION;
    static final String OPT_OUT_PROPERTY = "hs_email_optout_" + SUBSCRIPTION;
    static CustomerPeers peers;
    static MailchimpPeer mailchimp;
    static RuntimeKit kit;
    static CrossReferences xref;
    static ConsentStates states;

    /** One customer's records in the four systems. */
    record Customer(String globalId, String email, String hubSpotId, String salesforceId) {
    }

    @BeforeAll
    static void start() throws Exception {
        peers = new CustomerPeers();
        String apiKey = UUID.randomUUID().toString().replace("-", "") + "-us21";
        mailchimp = new MailchimpPeer(0, apiKey).start();
        Map<String, String> s = peers.settings();
        s.put("interchange.flows", "crm-hubspot,crm-salesforce,loyalty-webhook,consent");
        s.put("interchange.mailchimp.api-url", mailchimp.url());
        s.put("interchange.mailchimp.api-key", apiKey);
        s.put("interchange.mailchimp.list-id", LIST);
        s.put("interchange.mailchimp.webhook-secret", MAILCHIMP_SECRET);
        s.put("interchange.loyalty.webhook-secret", LOYALTY_SECRET);
        s.put("interchange.route.consent.apply.initial-delay", "PT0.1S");
        s.put("interchange.route.consent.apply.max-delay", "PT0.5S");
        kit = RuntimeKit.start(Databases.Backend.H2, s);
        xref = kit.runtime.store().crossReferences();
        states = kit.runtime.store().consentStates();
        mailchimp.sendWebhooks(URI.create("http://127.0.0.1:" + kit.httpPort + "/webhooks/mailchimp?secret=" + MAILCHIMP_SECRET));
        await().atMost(Duration.ofSeconds(30)).until(() -> peers.salesforce.subscriptions().contains("/data/ContactChangeEvent"));
    }

    @AfterAll
    static void stop() {
        if (kit != null) kit.close();
        if (mailchimp != null) mailchimp.close();
        if (peers != null) peers.close();
    }

    /** A customer subscribed everywhere: a Mailchimp member, a HubSpot and a Salesforce contact, a loyalty customer. */
    static Customer customer() {
        String email = "c-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
        String globalId = xref.mint();
        String hubSpotId = peers.hubSpot.create("contacts", Map.of("email", email, "hs_email_optout", "false"));
        peers.hubSpot.preferencesPage(email, SUBSCRIPTION, true);
        String salesforceId = peers.salesforce.create("Contact", Map.of("LastName", "Silva", "Email", email,
                "HasOptedOutOfEmail", false));
        String hash = mailchimp.subscribe(LIST, email);
        peers.loyalty.changeCustomer(globalId, Map.of("email", email), Map.of("email_marketing_optin", true,
                "email_marketing_optin_at", Instant.now().minusSeconds(3600).toString()));
        xref.link(globalId, "hubspot", PORTAL + "/contact", hubSpotId);
        xref.link(globalId, "salesforce", peers.salesforce.orgId + "/contact", salesforceId);
        xref.link(globalId, "mailchimp", LIST, hash);
        xref.link(globalId, "loyalty", "", "CARD" + globalId.substring(0, 4));
        return new Customer(globalId, email, hubSpotId, salesforceId);
    }

    /** The customer changes the consent in the loyalty app: the platform's customer holds it (no webhook yet). */
    static void loyaltyAppSets(Customer c, boolean optIn, Instant at) {
        peers.loyalty.changeCustomer(c.globalId(), Map.of(), Map.of("email_marketing_optin", optIn,
                "email_marketing_optin_at", at.toString()));
    }

    /** The loyalty platform's customer.updated webhook carrying the consent (a change made there, or an echo). */
    static HttpResponse<String> loyaltyConsent(Customer c, boolean optIn, Instant at) throws Exception {
        ObjectNode w = JSON.createObjectNode().put("id", "whs_" + EVENT_IDS.incrementAndGet()).put("project_id", "proj_T1")
                .put("created_at", Instant.now().toString()).put("type", "customer.updated");
        ObjectNode customer = w.putObject("data").putObject("customer").put("id", "cust_" + c.globalId().substring(0, 8))
                .put("source_id", c.globalId()).put("email", c.email()).put("object", "customer")
                .put("updated_at", at.toString());
        customer.putObject("metadata").put("email_marketing_optin", optIn).put("email_marketing_optin_at", at.toString());
        w.putObject("event").put("id", "ev" + EVENT_IDS.incrementAndGet()).put("type", "customer.updated")
                .put("created_at", at.toString());
        String body = JSON.writeValueAsString(w);
        return kit.post("/webhooks/loyalty", body.getBytes(StandardCharsets.UTF_8), Map.of("Content-Type", "application/json",
                VoucherifySigner.HEADER, VoucherifySigner.sign(LOYALTY_SECRET, body)));
    }

    /**
     * The contact unsubscribes from (or subscribes to) the marketing subscription type on HubSpot's preferences page;
     * HubSpot sets the type's contact property (its webhook follows, maybe late).
     */
    static void hubSpotUserSets(Customer c, boolean optOut) {
        peers.hubSpot.preferencesPage(c.email(), SUBSCRIPTION, !optOut);
    }

    /**
     * HubSpot's propertyChange webhook of the subscription type's property hs_email_optout_<id>, as HubSpot delivers it
     * (a change made there, or an echo).
     */
    static HttpResponse<String> hubSpotOptOut(Customer c, boolean optOut, Instant at) throws Exception {
        return hubSpotPropertyChange(c, OPT_OUT_PROPERTY, String.valueOf(optOut), at);
    }

    static HttpResponse<String> hubSpotPropertyChange(Customer c, String property, String value, Instant at)
            throws Exception {
        ObjectNode e = JSON.createObjectNode().put("eventId", EVENT_IDS.incrementAndGet()).put("subscriptionId", 2_208_111)
                .put("portalId", PORTAL).put("appId", 1_160_452).put("occurredAt", at.toEpochMilli())
                .put("subscriptionType", "contact.propertyChange").put("attemptNumber", 0)
                .put("objectId", Long.parseLong(c.hubSpotId())).put("changeFlag", "UPDATED").put("changeSource", "CRM_UI")
                .put("sourceId", "userId:1502").put("propertyName", property).put("propertyValue", value);
        byte[] bytes = JSON.writeValueAsBytes(JSON.createArrayNode().add(e));
        Map<String, String> headers = new HashMap<>(HubSpotSigner.headers(peers.hubSpotSecret,
                "http://127.0.0.1:" + kit.httpPort + "/webhooks/hubspot", bytes, Instant.now().toEpochMilli()));
        headers.put("Content-Type", "application/json");
        return kit.post("/webhooks/hubspot", bytes, headers);
    }

    /** The address's status of the marketing subscription type, as HubSpot's Communication Preferences API reports it. */
    static String hubSpotStatus(Customer c) {
        return peers.hubSpot.subscriptionStatus(c.email(), SUBSCRIPTION);
    }

    static Object salesforceOptOut(Customer c) {
        return peers.salesforce.get("Contact", c.salesforceId()).get("HasOptedOutOfEmail");
    }

    static JsonNode loyaltyOptIn(Customer c) {
        return peers.loyalty.customers().stream().filter(x -> c.globalId().equals(x.path("source_id").asText(null)))
                .findFirst().map(x -> x.path("metadata").path("email_marketing_optin")).orElse(null);
    }

    /**
     * What the four systems and the store hold for the customer's consent, in one line (a text value where a boolean
     * belongs shows quoted), so that a wait that runs out says what each system held.
     */
    static String seen(Customer c) {
        Object salesforce = salesforceOptOut(c);
        return "hubspot subscription=" + hubSpotStatus(c)
                + ", salesforce HasOptedOutOfEmail=" + (salesforce instanceof String ? "'" + salesforce + "'" : salesforce)
                + ", mailchimp status=" + mailchimp.status(LIST, c.email())
                + ", loyalty email_marketing_optin=" + loyaltyOptIn(c)
                + ", store=" + states.current(c.globalId(), "email-marketing").map(s -> s.granted() ? "granted" : "revoked")
                .orElse("none");
    }

    /** {@link #seen} of a customer whose consent is revoked (or granted) in all four systems and in the store. */
    static String everywhere(boolean granted) {
        return "hubspot subscription=" + (granted ? "SUBSCRIBED" : "NOT_SUBSCRIBED") + ", salesforce HasOptedOutOfEmail=" + !granted
                + ", mailchimp status=" + (granted ? "subscribed" : "unsubscribed")
                + ", loyalty email_marketing_optin=" + granted + ", store=" + (granted ? "granted" : "revoked");
    }

    /** Waits until the consent is revoked (or granted) everywhere; on timeout the message names what was seen. */
    static void awaitEverywhere(Customer c, boolean granted) {
        await().atMost(WITHIN).until(() -> seen(c), everywhere(granted)::equals);
    }

    @Test
    void revokedInTheLoyaltyAppThenAnOlderOptInFromHubSpotLeavesItRevokedEverywhere() throws Exception {
        Customer c = customer();
        Instant revoked = Instant.now().minusSeconds(5);
        loyaltyAppSets(c, false, revoked);
        assertThat(loyaltyConsent(c, false, revoked).statusCode()).isEqualTo(200);
        awaitEverywhere(c, false);

        // HubSpot's opt-in from before the revocation arrives late
        assertThat(hubSpotOptOut(c, false, revoked.minusSeconds(60)).statusCode()).isEqualTo(200);
        await().atMost(WITHIN).until(() -> states.history(c.globalId(), "email-marketing").stream()
                .anyMatch(h -> h.source().equals("hubspot") && h.outcome().equals("STALE")));
        // HubSpot's own record said opted in: written back to the value in force
        awaitEverywhere(c, false);
        assertThat(states.current(c.globalId(), "email-marketing").orElseThrow().source()).isEqualTo("loyalty");
    }

    @Test
    void onATieTheRevocationWins() throws Exception {
        Customer c = customer();
        Instant t = Instant.now().minusSeconds(2).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        // both made at the same instant, both on their way at once
        hubSpotUserSets(c, true);
        loyaltyAppSets(c, true, t);
        assertThat(hubSpotOptOut(c, true, t).statusCode()).isEqualTo(200);
        assertThat(loyaltyConsent(c, true, t).statusCode()).isEqualTo(200);
        await().atMost(WITHIN).until(() -> states.history(c.globalId(), "email-marketing").size() >= 2);
        awaitEverywhere(c, false);
        assertThat(states.current(c.globalId(), "email-marketing").orElseThrow().source()).isEqualTo("hubspot");
    }

    @Test
    void aNewerOptInAfterARevocationIsGrantedEverywhere() throws Exception {
        Customer c = customer();
        hubSpotUserSets(c, true);
        assertThat(hubSpotOptOut(c, true, Instant.now().minusSeconds(10)).statusCode()).isEqualTo(200);
        awaitEverywhere(c, false);
        Instant optIn = Instant.now();
        loyaltyAppSets(c, true, optIn);
        assertThat(loyaltyConsent(c, true, optIn).statusCode()).isEqualTo(200);
        awaitEverywhere(c, true);
    }

    @Test
    void aMailchimpUnsubscribeIsRevokedEverywhereWithinSecondsAndTheEchoesChangeNothing() throws Exception {
        Customer c = customer();
        mailchimp.unsubscribeByUser(LIST, c.email(), Instant.now());
        assertThat(mailchimp.webhookAnswers()).last().isEqualTo(200);
        long started = System.nanoTime();
        awaitEverywhere(c, false);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));

        // our writes' echoes: HubSpot's property change (tests post it, as HubSpot would), Salesforce's change event
        // (the peer emits it, tagged with our client id), the loyalty platform's customer.updated
        assertThat(hubSpotOptOut(c, true, Instant.now()).statusCode()).isEqualTo(200);
        assertThat(loyaltyConsent(c, false, Instant.now()).statusCode()).isEqualTo(200);
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() ->
                states.history(c.globalId(), "email-marketing").size() == 1);
        assertThat(states.current(c.globalId(), "email-marketing").orElseThrow().source()).isEqualTo("mailchimp");
    }

    @Test
    void anUnsubscribeFromAllEmailInHubSpotIsRevokedEverywhereAndANewerOptInIsRefusedThereAsPermanent() throws Exception {
        Customer c = customer();
        peers.hubSpot.unsubscribeFromAll(c.email());
        assertThat(hubSpotPropertyChange(c, "hs_email_optout", "true", Instant.now().minusSeconds(10)).statusCode())
                .isEqualTo(200);
        awaitEverywhere(c, false);
        assertThat(states.current(c.globalId(), "email-marketing").orElseThrow().source()).isEqualTo("hubspot");
        // leaving "unsubscribed from all" chooses no subscription: it states nothing
        assertThat(hubSpotPropertyChange(c, "hs_email_optout", "false", Instant.now().minusSeconds(5)).statusCode())
                .isEqualTo(200);

        // a newer opt-in elsewhere reaches every system but HubSpot, which no integration may resubscribe the contact in
        int subscribes = subscribesSent();
        Instant optIn = Instant.now();
        loyaltyAppSets(c, true, optIn);
        assertThat(loyaltyConsent(c, true, optIn).statusCode()).isEqualTo(200);
        await().atMost(WITHIN).until(() -> seen(c), ("hubspot subscription=NOT_SUBSCRIBED, " + everywhere(true)
                .substring(everywhere(true).indexOf("salesforce")))::equals);
        await().atMost(WITHIN).until(() -> kit.runtime.store().deadLetters().list("consent.apply",
                io.interchange.store.DeadLetter.OPEN, 100).stream().anyMatch(d -> d.errorMessage() != null
                && d.errorMessage().contains("contact " + c.hubSpotId() + " is unsubscribed from all e-mail")));
        assertThat(d(kit.runtime.store().deadLetters().list("consent.apply", io.interchange.store.DeadLetter.OPEN, 100),
                c).failureKind()).isEqualTo("PERMANENT");
        assertThat(subscribesSent()).as("no subscribe the portal would refuse is sent").isEqualTo(subscribes);
        assertThat(states.history(c.globalId(), "email-marketing")).as("the end of the opt-out of all stated nothing")
                .noneMatch(h -> h.source().equals("hubspot") && h.granted());
    }

    static io.interchange.store.DeadLetter d(java.util.List<io.interchange.store.DeadLetter> all, Customer c) {
        return all.stream().filter(x -> x.errorMessage() != null && x.errorMessage().contains("contact " + c.hubSpotId()
                + " ")).findFirst().orElseThrow();
    }

    static int subscribesSent() {
        return (int) peers.hubSpot.requestLog().stream()
                .filter(r -> r.path().equals("/communication-preferences/v3/subscribe")).count();
    }

    @Test
    void theMailchimpEdgeRefusesAWrongSecretWith401AndAReasonAndAnswersItsValidationGet() throws Exception {
        Map<String, Object> form = new LinkedHashMap<>();
        form.put("type", "unsubscribe");
        form.put("fired_at", "2026-03-01 10:00:00");
        form.put("data", Map.of("list_id", LIST, "email", "x@example.com"));
        byte[] body = FormBody.of(form).text().getBytes(StandardCharsets.UTF_8);
        Map<String, String> headers = Map.of("Content-Type", "application/x-www-form-urlencoded");

        HttpResponse<String> wrong = kit.post("/webhooks/mailchimp?secret=nope", body, headers);
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(JSON.readTree(wrong.body()).path("reason").asText()).contains("secret not accepted");
        HttpResponse<String> missing = kit.post("/webhooks/mailchimp", body, headers);
        assertThat(missing.statusCode()).isEqualTo(401);
        assertThat(JSON.readTree(missing.body()).path("reason").asText()).contains("missing secret");
        HttpResponse<String> validation = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + kit.httpPort + "/webhooks/mailchimp")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(validation.statusCode()).as("Mailchimp's URL validation").isEqualTo(200);
    }
}
