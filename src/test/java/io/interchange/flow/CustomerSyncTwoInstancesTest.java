package io.interchange.flow;

import io.interchange.testkit.TempDirs;
import io.interchange.testkit.Ports;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.interchange.connectors.erp.S4BusinessPartners;
import io.interchange.runtime.InterchangeRuntime;
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

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two instances of the customer sync sharing one PostgreSQL store and one Kafka cluster: the same people created at
 * once in Salesforce (as contacts) and in HubSpot (webhooks delivered to either instance), their changes consumed by
 * whichever instance holds the record's partition, so one person's two records are identified and synchronised on
 * both instances at the same time. Each person is one customer, with one record in each target.
 */
class CustomerSyncTwoInstancesTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final long PORTAL = 7_700_123;
    static final int PEOPLE = 12;
    static final AtomicLong EVENT_IDS = new AtomicLong(9_000_000);
    static CustomerPeers peers;
    static StripeApiPeer stripe;
    static HubSpotPeer hubSpot;
    static LoyaltyPeer loyalty;
    static SalesforcePeer salesforce;
    static String SECRET;
    static RuntimeKit kit;
    static InterchangeRuntime second;
    static int secondHttpPort;

    @BeforeAll
    static void start() throws Exception {
        peers = new CustomerPeers();
        stripe = peers.stripe;
        hubSpot = peers.hubSpot;
        loyalty = peers.loyalty;
        salesforce = peers.salesforce;
        SECRET = peers.hubSpotSecret;
        kit = RuntimeKit.start(Databases.Backend.POSTGRES, peers.settings());
        secondHttpPort = Ports.free();
        // the same store, Kafka and consumer groups: the second instance shares the customer topic's partitions
        second = InterchangeRuntime.start(kit.runtime.config().with(Map.of(
                "interchange.http.port", String.valueOf(secondHttpPort),
                "interchange.management.port", String.valueOf(Ports.free()),
                "interchange.jmx.port", String.valueOf(Ports.free()),
                "interchange.data-dir", TempDirs.untilExit("interchange-second").toString())));
        peers.confirmTo(kit);
    }

    @AfterAll
    static void stop() {
        if (second != null) second.close();
        if (kit != null) kit.close();
        if (peers != null) peers.close();
    }

    static void deliver(int httpPort, String contact, String email) throws Exception {
        ArrayNode body = JSON.createArrayNode();
        body.addObject().put("eventId", EVENT_IDS.incrementAndGet()).put("subscriptionId", 2_208_111)
                .put("portalId", PORTAL).put("appId", 1_160_452).put("occurredAt", System.currentTimeMillis())
                .put("subscriptionType", "contact.propertyChange").put("attemptNumber", 0)
                .put("objectId", Long.parseLong(contact)).put("propertyName", "email").put("propertyValue", email)
                .put("changeSource", "CRM_UI").put("sourceId", "userId:1502");
        byte[] bytes = JSON.writeValueAsBytes(body);
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/webhooks/hubspot"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(bytes));
        HubSpotSigner.headers(SECRET, "http://127.0.0.1:" + httpPort + "/webhooks/hubspot", bytes,
                Instant.now().toEpochMilli()).forEach(request::header);
        HttpResponse<String> answer = HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    }

    @Test
    void eachPersonCreatedInBothCrmsAtOnceIsOneCustomerWithOneRecordInEachTarget() throws Exception {
        CrossReferences xref = kit.runtime.store().crossReferences();
        Map<String, String[]> people = new LinkedHashMap<>();
        for (int i = 0; i < PEOPLE; i++) {
            String email = "person" + i + "." + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
            String entity = i % 2 == 0 ? "DE01" : "FR01";
            String sf = salesforce.create("Contact", Map.of("FirstName", "Person", "LastName", "Number " + i,
                    "Email", email, "Legal_Entity__c", entity));
            String hs = hubSpot.create("contacts", Map.of("email", email));
            deliver(i % 2 == 0 ? kit.httpPort : secondHttpPort, hs, email);
            people.put(email, new String[]{sf, hs, entity});
        }

        await().atMost(Duration.ofSeconds(90)).until(() -> people.values().stream().allMatch(p -> {
            Optional<String> g = xref.resolve("salesforce", salesforce.orgId + "/contact", p[0]);
            return g.isPresent() && xref.linkIn(g.get(), "billing", "").isPresent()
                    && xref.linkIn(g.get(), "loyalty", "").isPresent()
                    && (p[2].equals("DE01") ? xref.linkIn(g.get(), "erp-s4hana", "").isPresent()
                    : xref.linkIn(g.get(), "erp-legacy", "FR01").isPresent())
                    && xref.resolve("hubspot", PORTAL + "/contact", p[1]).isPresent();
        }));
        await().pollDelay(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(4)).until(() -> true);

        List<String> globalIds = new ArrayList<>();
        for (Map.Entry<String, String[]> p : people.entrySet()) {
            String[] records = p.getValue();
            String globalId = xref.resolve("salesforce", salesforce.orgId + "/contact", records[0]).orElseThrow();
            globalIds.add(globalId);
            assertThat(xref.resolve("hubspot", PORTAL + "/contact", records[1])).as(p.getKey()).hasValue(globalId);
            assertThat(stripe.customers().stream().filter(c -> globalId.equals(c.path("metadata")
                    .path("global_customer_id").asText(null)))).as("billing customers of " + p.getKey()).hasSize(1);
            List<String> loyaltyCustomers = loyalty.customers().stream()
                    .filter(c -> globalId.equals(c.path("source_id").asText(null))).map(c -> c.path("id").asText()).toList();
            assertThat(loyaltyCustomers).hasSize(1);
            assertThat(loyalty.members().stream().filter(m -> loyaltyCustomers.contains(m.path("holder_id").asText())))
                    .as("loyalty members of " + p.getKey()).hasSize(1);
            if (records[2].equals("DE01")) {
                assertThat(kit.s4.businessPartners().partners().stream()
                        .filter(b -> b.senderUuid().equals(S4BusinessPartners.partnerUuid(globalId))))
                        .as("S/4HANA partners of " + p.getKey()).hasSize(1);
            } else {
                assertThat(kit.legacy.customers().stream().filter(c -> c.externalKey().equals(globalId)))
                        .as("legacy customers of " + p.getKey()).hasSize(1);
            }
        }
        assertThat(globalIds).doesNotHaveDuplicates();
        try (Connection c = kit.runtime.store().dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM customer")) {
            rs.next();
            assertThat(rs.getInt(1)).as("customers in the store: one per person, none minted in vain left")
                    .isEqualTo(PEOPLE);
        }
        assertThat(kit.runtime.store().deadLetters().list("customer.sync", io.interchange.store.DeadLetter.OPEN, 100))
                .as("dead letters").isEmpty();
    }
}
