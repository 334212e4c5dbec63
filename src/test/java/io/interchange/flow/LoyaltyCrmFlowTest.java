package io.interchange.flow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.sandbox.hubspot.HubSpotPeer;
import io.interchange.sandbox.salesforce.SalesforcePeer;
import io.interchange.store.CrossReferences;
import io.interchange.testkit.CustomerPeers;
import io.interchange.testkit.Databases;
import io.interchange.testkit.RuntimeKit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Flow loyalty-crm end to end, on real Kafka, the H2 store and the Salesforce and HubSpot peers: canonical loyalty
 * events on the loyalty topic (as the loyalty-webhook edge publishes them) write the member's balance and tier to the
 * customer's CRM records through the master sync's write-back, newest event wins; reaching Gold makes one task for
 * the record's owner, whatever is delivered twice or answered never; a member silent for the churn rule's time with
 * enough points gets one retention task per episode from the scheduled check.
 */
class LoyaltyCrmFlowTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String TOPIC = "interchange.loyalty.v1";
    /** Event times are relative to now: the churn rule (30 days without activity) must see only its own members. */
    static final Instant NOW = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    static CustomerPeers peers;
    static SalesforcePeer salesforce;
    static HubSpotPeer hubSpot;
    static RuntimeKit kit;
    static CrossReferences xref;
    static KafkaProducer<String, byte[]> producer;

    @BeforeAll
    static void start() throws Exception {
        peers = new CustomerPeers();
        salesforce = peers.salesforce;
        hubSpot = peers.hubSpot;
        Map<String, String> settings = new HashMap<>(peers.settings());
        settings.put("interchange.flows", "loyalty-crm");
        settings.put("interchange.loyalty.crm.start", "earliest");
        settings.put("interchange.route.loyalty.crm.initial-delay", "PT0.1S");
        settings.put("interchange.route.loyalty.crm.max-delay", "PT0.3S");
        settings.put("interchange.loyalty.crm.churn-inactivity", "P30D");
        settings.put("interchange.loyalty.crm.churn-min-balance", "1000");
        settings.put("interchange.loyalty.crm.churn-check-period", "PT0.3S");
        kit = RuntimeKit.start(Databases.Backend.H2, settings);
        xref = kit.runtime.store().crossReferences();
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kit.kafka.bootstrapServers());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        producer = new KafkaProducer<>(p);
    }

    @AfterAll
    static void stop() {
        if (producer != null) producer.close();
        if (kit != null) kit.close();
        if (peers != null) peers.close();
    }

    /** A customer with a Salesforce account (owned by {@code owner}) linked as the customer sync links it. */
    static String customerWithAccount(String name, String owner, String[] accountId) {
        String globalId = xref.mint();
        accountId[0] = salesforce.create("Account", Map.of("Name", name, "OwnerId", owner));
        xref.link(globalId, "salesforce", salesforce.orgId + "/company", accountId[0]);
        return globalId;
    }

    static void publish(String type, String eventId, String globalId, ObjectNode data) {
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(TOPIC, globalId,
                data.toString().getBytes(StandardCharsets.UTF_8));
        Map<String, String> headers = Map.of("ce_specversion", "1.0", "ce_id", eventId, "ce_source", "/loyalty/voucherify",
                "ce_type", type, "ce_subject", globalId, "ce_time", Instant.now().toString(),
                "content-type", "application/json");
        headers.forEach((k, v) -> record.headers().add(k, v.getBytes(StandardCharsets.UTF_8)));
        try {
            producer.send(record).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A canonical points transaction (LoyaltyTransaction) with the balance after it. */
    static void transaction(String globalId, long points, long balance, Instant occurredAt) {
        String id = "vtx_" + UUID.randomUUID().toString().replace("-", "").substring(0, 18);
        ObjectNode t = JSON.createObjectNode().put("transactionId", id).put("type", "POINTS_ACCRUAL")
                .put("movement", "EARNED");
        t.putObject("customer").put("globalId", globalId).put("system", "loyalty").put("systemId", "cust_1");
        t.put("memberId", "LC-1").put("campaignId", "camp_1").put("points", points).put("balance", balance)
                .put("currency", "EUR").put("pointValue", "1").put("amountMinor", points)
                .put("occurredAt", occurredAt.toString()).put("occurredOn", "2026-12-05");
        publish("io.interchange.loyalty.transaction.created", "loyalty:" + id, globalId, t);
    }

    /** A canonical tier change (LoyaltyTierChange); returns its event id. */
    static String tierChange(String eventId, String globalId, String change, String tierId, String tierName,
                             Instant occurredAt) {
        ObjectNode c = JSON.createObjectNode().put("eventId", eventId).put("change", change);
        c.putObject("customer").put("globalId", globalId).put("system", "loyalty").put("systemId", "cust_1");
        c.put("campaignId", "camp_1");
        c.putObject("tierTo").put("id", tierId).put("name", tierName).put("pointsFrom", 2000);
        c.put("occurredAt", occurredAt.toString());
        publish("io.interchange.loyalty.tier.changed", "loyalty:" + eventId + ":" + UUID.randomUUID(), globalId, c);
        return eventId;
    }

    static Object field(String type, String id, String field) {
        Map<String, Object> r = salesforce.get(type, id);
        return r == null ? null : r.get(field);
    }

    @Test
    void balanceAndTierAreWrittenToTheCustomersSalesforceAccountAndHubSpotContact() {
        String[] account = new String[1];
        String globalId = customerWithAccount("Balance GmbH", "005000000000077AAA", account);
        String contact = hubSpot.create("contacts", Map.of("email", "tier@example.com"));
        xref.link(globalId, "hubspot", "62515/contact", contact);
        Instant t = NOW.minusSeconds(86_400);
        transaction(globalId, 500, 1500, t);
        tierChange("evcus_silver_" + UUID.randomUUID(), globalId, "upgraded", "ltr_silver", "Silver", t.plusSeconds(1));

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(field("Account", account[0], "Loyalty_Balance__c")).isEqualTo(1500);
            assertThat(field("Account", account[0], "Loyalty_Tier__c")).isEqualTo("Silver");
            JsonNode p = hubSpot.records("contacts").stream().filter(r -> r.path("id").asText().equals(contact))
                    .findFirst().orElseThrow().path("properties");
            assertThat(p.path("loyalty_balance").asText()).isEqualTo("1500");
            assertThat(p.path("loyalty_tier").asText()).isEqualTo("Silver");
        });
        // the write went by record id with the runtime's call options, so its change event is known as an echo
        assertThat(salesforce.writes()).anyMatch(w -> w.path().endsWith("/composite/sobjects")
                && w.callOptions() != null && w.callOptions().contains("client="));
    }

    @Test
    void anOlderBalanceArrivingAfterANewerOneDoesNotOverwriteIt() {
        String[] account = new String[1];
        String globalId = customerWithAccount("Order Ltd", "005000000000078AAA", account);
        Instant newer = NOW.minusSeconds(3600);
        transaction(globalId, 300, 2300, newer);
        await().atMost(Duration.ofSeconds(30)).until(() -> Integer.valueOf(2300).equals(field("Account", account[0],
                "Loyalty_Balance__c")));
        // an older transaction delivered late, then a marker event after it on the same partition
        transaction(globalId, 100, 2000, newer.minusSeconds(3600));
        tierChange("evcus_marker_" + UUID.randomUUID(), globalId, "joined", "ltr_basic", "Basic", newer);
        await().atMost(Duration.ofSeconds(30)).until(() -> "Basic".equals(field("Account", account[0], "Loyalty_Tier__c")));
        assertThat(field("Account", account[0], "Loyalty_Balance__c")).isEqualTo(2300);
        var standing = kit.runtime.store().loyaltyStandings().of(globalId).orElseThrow();
        assertThat(standing.balance()).isEqualTo(2300);
        assertThat(standing.balanceAt()).isEqualTo(newer);
    }
    static java.util.List<Map<String, Object>> salesforceTasksAbout(String recordId) {
        return salesforce.all("Task").stream().filter(t -> recordId.equals(t.get("WhatId")) || recordId.equals(t.get("WhoId")))
                .toList();
    }

    static java.util.List<ObjectNode> hubSpotTasksAbout(String contactId) {
        return hubSpot.records("tasks").stream().filter(t -> t.path("associations").findValuesAsText("id")
                .contains(contactId)).toList();
    }

    /** Task upserts the Salesforce peer was sent (every test's: compared before and after). */
    static long taskCreates() {
        return salesforce.requests().stream().filter(r -> r.startsWith("PATCH") && r.contains("/sobjects/Task/")).count();
    }

    static boolean done(String key) {
        return "DONE".equals(kit.runtime.store().idempotency().state(key));
    }

    @Test
    void reachingGoldMakesOneTaskForTheAccountsOwnerAndTheSameTierChangeAgainMakesNoOther() {
        String[] account = new String[1];
        String owner = "005000000000081AAA";
        String globalId = customerWithAccount("Gold AG", owner, account);
        Instant t = NOW.minusSeconds(600);
        String key = io.interchange.loyalty.TierTasks.key(globalId, "ltr_gold");
        tierChange("evcus_gold_" + UUID.randomUUID(), globalId, "upgraded", "ltr_gold", "Gold", t);
        await().atMost(Duration.ofSeconds(30)).until(() -> done(key));
        var tasks = salesforceTasksAbout(account[0]);
        assertThat(tasks).hasSize(1);
        assertThat(tasks.get(0)).containsEntry("OwnerId", owner).containsEntry("WhatId", account[0])
                .containsEntry("Interchange_Key__c", key).containsEntry("Status", "Not Started");
        assertThat((String) tasks.get(0).get("Subject")).contains("Gold");

        // the same webhook again (a new event on the topic, as a replay or a second delivery publishes it) and the
        // same change under its own event id once more: the claim is done, so nothing is asked of Salesforce
        String again = "evcus_gold_again_" + UUID.randomUUID();
        tierChange(again, globalId, "upgraded", "ltr_gold", "Gold", t);
        tierChange(again, globalId, "upgraded", "ltr_gold", "Gold", t);
        // a later event on the same partition, to know the two were handled
        transaction(globalId, 10, 2010, t.plusSeconds(5));
        await().atMost(Duration.ofSeconds(30)).until(() -> Integer.valueOf(2010).equals(field("Account", account[0],
                "Loyalty_Balance__c")));
        assertThat(salesforceTasksAbout(account[0])).hasSize(1);
        assertThat(field("Account", account[0], "Loyalty_Tier__c")).isEqualTo("Gold");
    }

    @Test
    void aTierBelowTheConfiguredOneOrADowngradeToItMakesNoTask() {
        String[] account = new String[1];
        String globalId = customerWithAccount("Silver SA", "005000000000082AAA", account);
        Instant t = NOW.minusSeconds(600);
        tierChange("evcus_s_" + UUID.randomUUID(), globalId, "upgraded", "ltr_silver", "Silver", t);
        tierChange("evcus_d_" + UUID.randomUUID(), globalId, "downgraded", "ltr_gold", "Gold", t.plusSeconds(1));
        transaction(globalId, 10, 900, t.plusSeconds(2));
        await().atMost(Duration.ofSeconds(30)).until(() -> Integer.valueOf(900).equals(field("Account", account[0],
                "Loyalty_Balance__c")));
        assertThat(salesforceTasksAbout(account[0])).isEmpty();
        assertThat(field("Account", account[0], "Loyalty_Tier__c")).isEqualTo("Gold");
    }

    @Test
    void aSalesforceTaskCreateWhoseAnswerIsLostIsFoundByItsKeyNotMadeAgain() {
        String[] account = new String[1];
        String owner = "005000000000083AAA";
        String globalId = customerWithAccount("Lost Answer BV", owner, account);
        String key = io.interchange.loyalty.TierTasks.key(globalId, "ltr_gold");
        long creates = taskCreates();
        salesforce.loseAnswerNext(1, "PATCH", ".*/composite/sobjects/Task/Interchange_Key__c");
        tierChange("evcus_lost_" + UUID.randomUUID(), globalId, "joined", "ltr_gold", "gold ",
                NOW.minusSeconds(500));
        await().atMost(Duration.ofSeconds(30)).until(() -> done(key));
        assertThat(salesforceTasksAbout(account[0])).hasSize(1).first().satisfies(task ->
                assertThat(task).containsEntry("OwnerId", owner));
        // the create was sent once: the retry looked the task up by its key and found it
        assertThat(taskCreates() - creates).isEqualTo(1);
    }

    @Test
    void aHubSpotContactReachingGoldGetsOneTaskForItsOwnerEvenWhenTheCreateAnswerIsLost() {
        String globalId = xref.mint();
        String contact = hubSpot.create("contacts", Map.of("email", "gold.contact@example.com",
                "hubspot_owner_id", "64492917"));
        xref.link(globalId, "hubspot", "62515/contact", contact);
        String key = io.interchange.loyalty.TierTasks.key(globalId, "ltr_gold");
        hubSpot.loseAnswerNext(1, "POST", "/crm/v3/objects/tasks");
        tierChange("evcus_hs_" + UUID.randomUUID(), globalId, "upgraded", "ltr_gold", "Gold",
                NOW.minusSeconds(400));
        await().atMost(Duration.ofSeconds(30)).until(() -> done(key));
        var tasks = hubSpotTasksAbout(contact);
        assertThat(tasks).hasSize(1);
        JsonNode p = tasks.get(0).path("properties");
        assertThat(p.path("hubspot_owner_id").asText()).isEqualTo("64492917");
        assertThat(p.path("interchange_key").asText()).isEqualTo(key);
        assertThat(p.path("hs_task_status").asText()).isEqualTo("NOT_STARTED");
        assertThat(p.hasNonNull("hs_timestamp")).isTrue();
        assertThat(tasks.get(0).path("associations").get(0).path("types").get(0).path("associationTypeId").asInt())
                .isEqualTo(204);
        assertThat(hubSpot.requestLog().stream().filter(r -> r.method().equals("POST")
                && r.path().equals("/crm/v3/objects/tasks"))).hasSize(1);
    }
    static io.interchange.loyalty.ChurnCheck churn() {
        return kit.runtime.camelContext().getRegistry().lookupByNameAndType("loyaltyCrmChurnCheck",
                io.interchange.loyalty.ChurnCheck.class);
    }

    @Test
    void aMemberSilentForTheRuleTimeWithEnoughPointsGetsOneRetentionTaskPerEpisode() {
        String[] account = new String[1];
        String owner = "005000000000091AAA";
        String globalId = customerWithAccount("Quiet Oy", owner, account);
        String[] poorAccount = new String[1];
        String poor = customerWithAccount("Few Points Kft", "005000000000092AAA", poorAccount);
        Instant silent = NOW.minus(Duration.ofDays(40));
        transaction(globalId, 200, 4000, silent);
        transaction(poor, 10, 500, silent);
        String key = io.interchange.loyalty.ChurnCheck.key(globalId, silent);
        await().atMost(Duration.ofSeconds(30)).until(() -> done(key));
        var tasks = salesforceTasksAbout(account[0]);
        assertThat(tasks).hasSize(1);
        assertThat(tasks.get(0)).containsEntry("OwnerId", owner).containsEntry("Priority", "High")
                .containsEntry("Interchange_Key__c", key);
        assertThat((String) tasks.get(0).get("Subject")).contains("retention");

        // the next checks find the episode's task recorded: nothing more
        long checks = churn().checks();
        await().atMost(Duration.ofSeconds(30)).until(() -> churn().checks() >= checks + 2);
        assertThat(salesforceTasksAbout(account[0])).hasSize(1);
        assertThat(salesforceTasksAbout(poorAccount[0])).isEmpty();

        // new activity ends the episode; silent again past the rule's time, the member is at risk once more
        Instant later = NOW.minus(Duration.ofDays(35));
        transaction(globalId, 50, 4050, later);
        await().atMost(Duration.ofSeconds(30)).until(() -> done(io.interchange.loyalty.ChurnCheck.key(globalId, later)));
        long after = churn().checks();
        await().atMost(Duration.ofSeconds(30)).until(() -> churn().checks() >= after + 2);
        assertThat(salesforceTasksAbout(account[0])).hasSize(2);
    }
}
