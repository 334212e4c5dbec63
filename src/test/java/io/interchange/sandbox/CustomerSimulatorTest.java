package io.interchange.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.interchange.mapping.LegalEntity;
import io.interchange.mapping.LegalEntityTable;
import io.interchange.mapping.MappingSource;
import io.interchange.sandbox.hubspot.HubSpotPeer;
import io.interchange.sandbox.hubspot.HubSpotWebhookSender;
import io.interchange.sandbox.salesforce.SalesforcePeer;
import io.interchange.testkit.HubSpotSigner;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The sandbox's CRM users without a runtime: the same seed makes the same changes; the opening makes an account of
 * an S/4HANA entity and one of a legacy entity, a contact and its HubSpot twin; HubSpot's webhooks come in HubSpot's
 * order and carry HubSpot's v3 signature (checked by an independent signer).
 */
class CustomerSimulatorTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SECRET = "hubspot-app-secret";

    /** One webhook delivery as the endpoint received it. */
    record Delivery(String signature, String timestamp, byte[] body) {
    }

    private HttpServer server;
    private final List<Delivery> deliveries = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> peers = new ArrayList<>();
    private URI target;

    @BeforeEach
    void endpoint() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/webhooks/hubspot", ex -> {
            deliveries.add(new Delivery(ex.getRequestHeaders().getFirst("X-HubSpot-Signature-v3"),
                    ex.getRequestHeaders().getFirst("X-HubSpot-Request-Timestamp"), ex.getRequestBody().readAllBytes()));
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        server.start();
        target = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/webhooks/hubspot");
    }

    @AfterEach
    void stop() throws Exception {
        server.stop(0);
        for (AutoCloseable p : peers) p.close();
    }

    /** What one run of {@code steps} changes left in the CRMs: accounts, contacts, HubSpot contacts. */
    private List<String> run(long seed, int steps) throws Exception {
        SalesforcePeer salesforce = new SalesforcePeer(0, "key", "secret").start();
        HubSpotPeer hubSpot = new HubSpotPeer(0).start();
        peers.add(salesforce);
        peers.add(hubSpot);
        CustomerSimulator simulator = new CustomerSimulator(salesforce, hubSpot,
                new HubSpotWebhookSender(target, SECRET, 4_000_001, 1_160_452, 9_000_000), entities(), seed,
                Duration.ofSeconds(1));
        for (int i = 0; i < steps; i++) simulator.step();
        List<String> made = new ArrayList<>();
        salesforce.all("Account").stream().map(a -> "account " + a.get("Name") + " " + a.get("Tax_Id__c") + " "
                + a.get("Legal_Entity__c") + " " + a.get("Phone") + " " + a.get("BillingCity")).sorted().forEach(made::add);
        salesforce.all("Contact").stream().map(c -> "contact " + c.get("Email")).sorted().forEach(made::add);
        hubSpot.records("contacts").stream().map(r -> "hubspot " + r.path("properties")).sorted().forEach(made::add);
        simulator.close();
        return made;
    }

    private static List<LegalEntity> entities() {
        return new ArrayList<>(LegalEntityTable.load(MappingSource.bundled()).all().values());
    }

    @Test
    void theSameSeedMakesTheSameChangesAndAnotherSeedOthers() throws Exception {
        List<String> first = run(7, 25);
        List<String> again = run(7, 25);
        List<String> other = run(8, 25);
        assertThat(first).isNotEmpty().isEqualTo(again);
        assertThat(other).isNotEqualTo(first);
    }

    @Test
    void theOpeningMakesEveryKindOfChangeAndHubSpotWebhooksAreSignedAndInHubSpotsOrder() throws Exception {
        SalesforcePeer salesforce = new SalesforcePeer(0, "key", "secret").start();
        HubSpotPeer hubSpot = new HubSpotPeer(0).start();
        peers.add(salesforce);
        peers.add(hubSpot);
        CustomerSimulator simulator = new CustomerSimulator(salesforce, hubSpot,
                new HubSpotWebhookSender(target, SECRET, 4_000_001, 1_160_452, 9_000_000), entities(), 1,
                Duration.ofSeconds(1));
        for (int i = 0; i < 7; i++) simulator.step();

        LegalEntityTable table = LegalEntityTable.load(MappingSource.bundled());
        List<String> erps = salesforce.all("Account").stream().map(a -> table.find((String) a.get("Legal_Entity__c"))
                .orElseThrow()).map(e -> e.erpTargetOn(LocalDate.now(e.timeZone()))).toList();
        assertThat(erps).contains(LegalEntity.S4HANA, LegalEntity.LEGACY);
        String contactEmail = (String) salesforce.all("Contact").iterator().next().get("Email");
        assertThat(hubSpot.records("contacts")).as("the Salesforce contact's HubSpot twin")
                .anyMatch(r -> r.path("properties").path("email").asText().equals(contactEmail));
        assertThat(hubSpot.records("contacts")).as("a HubSpot phone edit").anyMatch(r -> r.path("properties").has("phone"));
        CustomerSimulator.Stats stats = simulator.stats();
        assertThat(stats.accounts()).isEqualTo(2);
        assertThat(stats.accountEdits()).isEqualTo(1);
        assertThat(stats.contacts()).isEqualTo(1);
        assertThat(stats.hubSpotContacts()).isEqualTo(2);
        assertThat(stats.samePerson()).isEqualTo(1);
        assertThat(stats.refusedEdits()).isEqualTo(1);
        assertThat(stats.webhooksFailed()).isZero();

        List<String> types = new ArrayList<>();
        for (Delivery d : deliveries) {
            assertThat(d.signature()).as("v3 signature").isEqualTo(HubSpotSigner.sign(SECRET, "POST", target.toString(),
                    d.body(), Long.parseLong(d.timestamp())));
            for (JsonNode e : JSON.readTree(d.body())) {
                assertThat(e.path("portalId").asLong()).isEqualTo(4_000_001);
                types.add(e.path("subscriptionType").asText() + (e.has("propertyName")
                        ? " " + e.path("propertyName").asText() : ""));
            }
        }
        assertThat(types.subList(0, 4)).containsExactly("contact.creation", "contact.propertyChange email",
                "contact.propertyChange hs_language", "contact.propertyChange lifecyclestage");
        assertThat(types).contains("contact.propertyChange phone");
    }

    @Test
    void theRuntimesWriteBackToAHubSpotRecordIsAnnouncedOnceAsHubSpotWouldAnnounceIt() throws Exception {
        SalesforcePeer salesforce = new SalesforcePeer(0, "key", "secret").start();
        HubSpotPeer hubSpot = new HubSpotPeer(0).start();
        peers.add(salesforce);
        peers.add(hubSpot);
        CustomerSimulator simulator = new CustomerSimulator(salesforce, hubSpot,
                new HubSpotWebhookSender(target, SECRET, 4_000_001, 1_160_452, 9_000_000), entities(), 1,
                Duration.ofSeconds(1));
        for (int i = 0; i < 4; i++) simulator.step();
        String contact = hubSpot.records("contacts").get(0).path("id").asText();
        // what the runtime's batch update sets (and a property no write-back sets, which is no echo)
        hubSpot.update("contacts", contact, Map.of("interchange_global_id", "3f1c9a4e-0000-4000-8000-000000000001",
                "billing_customer_id", "cus_Sandbox1", "notes", "-"));
        int before = deliveries.size();
        simulator.step();
        simulator.step();
        List<String> echoes = new ArrayList<>();
        for (Delivery d : deliveries.subList(before, deliveries.size())) {
            for (JsonNode e : JSON.readTree(d.body())) {
                if ("INTEGRATION".equals(e.path("changeSource").asText())) {
                    echoes.add(e.path("objectId").asText() + " " + e.path("propertyName").asText() + "="
                            + e.path("propertyValue").asText());
                }
            }
        }
        assertThat(echoes).containsExactlyInAnyOrder(contact + " interchange_global_id=3f1c9a4e-0000-4000-8000-000000000001",
                contact + " billing_customer_id=cus_Sandbox1");
        assertThat(simulator.stats().echoes()).isEqualTo(2);
    }
}
