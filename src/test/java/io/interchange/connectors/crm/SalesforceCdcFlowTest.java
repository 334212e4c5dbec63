package io.interchange.connectors.crm;

import io.interchange.testkit.TempDirs;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.config.Config;
import io.interchange.runtime.InterchangeRuntime;
import io.interchange.sandbox.EmbeddedKafka;
import io.interchange.sandbox.salesforce.SalesforcePeer;
import io.interchange.store.Store;
import io.interchange.store.StreamPositions;
import io.interchange.testkit.Databases;
import io.interchange.testkit.Ports;
import io.interchange.testkit.RuntimeKit;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The crm-salesforce flow end to end: camel-salesforce logs in to and subscribes at the Salesforce peer (OAuth client
 * credentials, CometD with the replay extension), change events become canonical customer changes on embedded Kafka,
 * and the stream position lives in the store (H2).
 */
class SalesforceCdcFlowTest {

    static final String KEY = "3MVG9-peer-" + UUID.randomUUID();
    static final String SECRET = "sf-secret-" + UUID.randomUUID();
    static final String ACCOUNTS = "/data/AccountChangeEvent";
    static final String CONTACTS = "/data/ContactChangeEvent";
    static final ObjectMapper JSON = new ObjectMapper();

    static EmbeddedKafka kafka;
    SalesforcePeer peer;
    Config config;
    String topic;
    InterchangeRuntime runtime;

    @BeforeAll
    static void kafka() throws Exception {
        kafka = EmbeddedKafka.start(TempDirs.untilExit("sf-kafka"), 0);
    }

    @AfterAll
    static void stopKafka() {
        if (kafka != null) kafka.close();
    }

    @BeforeEach
    void peer() throws Exception {
        peer = new SalesforcePeer(0, KEY, SECRET).start();
        peer.holdMillis(300);
        config = config(kafka.bootstrapServers());
    }

    Config config(String bootstrapServers) throws Exception {
        return config(bootstrapServers, Databases.Backend.H2);
    }

    Config config(String bootstrapServers, Databases.Backend backend) throws Exception {
        topic = "interchange.customer.sf-" + UUID.randomUUID();
        Path dir = TempDirs.untilExit("sf-runtime");
        Map<String, String> values = new HashMap<>();
        values.put("interchange.flows", "crm-salesforce");
        values.put("interchange.data-dir", dir.resolve("data").toString());
        values.put("interchange.http.port", String.valueOf(Ports.free()));
        values.put("interchange.management.port", String.valueOf(Ports.free()));
        values.put("interchange.jmx.port", "0");
        values.put("interchange.kafka.bootstrap-servers", bootstrapServers);
        values.put("interchange.customer.topic", topic);
        values.put("interchange.salesforce.login-url", peer.url());
        values.put("interchange.salesforce.consumer-key", KEY);
        values.put("interchange.salesforce.consumer-secret", SECRET);
        values.put("interchange.salesforce.rewind-delay", "PT0.2S");
        return Databases.config(backend, values);
    }

    @AfterEach
    void stop() {
        if (runtime != null) runtime.close();
        if (peer != null) peer.close();
    }

    void startRuntime() throws Exception {
        runtime = InterchangeRuntime.start(config);
        // both channels subscribed at the peer: events from now on reach the runtime
        await().atMost(Duration.ofSeconds(30)).until(() -> peer.subscriptions().containsAll(List.of(ACCOUNTS, CONTACTS)));
    }

    void stopRuntime() {
        runtime.close();
        runtime = null;
        await().atMost(Duration.ofSeconds(10)).until(() -> peer.subscriptions().isEmpty());
    }

    @Test
    void changeEventsBecomeOneCanonicalChangePerRecord() throws Exception {
        startRuntime();
        String acme = peer.create("Account", Map.of("Name", "Acme", "Industry", "Energy"));
        String globex = peer.create("Account", Map.of("Name", "Globex"));
        String ada = peer.create("Contact", Map.of("LastName", "Byron", "FirstName", "Ada", "AccountId", acme));
        // one transaction changing two accounts the same way: Salesforce sends one event naming both
        peer.update("Account", List.of(acme, globex), Map.of("Industry", "Agriculture"));

        List<ConsumerRecord<String, byte[]>> records = read(5);
        String org = peer.orgId;
        Map<String, List<JsonNode>> byKey = new LinkedHashMap<>();
        for (ConsumerRecord<String, byte[]> r : records) {
            byKey.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(JSON.readTree(r.value()));
        }
        assertThat(byKey.keySet()).containsExactlyInAnyOrder("salesforce:" + org + ":company:" + acme,
                "salesforce:" + org + ":company:" + globex, "salesforce:" + org + ":contact:" + ada);
        List<JsonNode> acmeChanges = byKey.get("salesforce:" + org + ":company:" + acme);
        assertThat(acmeChanges).extracting(c -> c.path("change").asText()).containsExactly("created", "updated");
        assertThat(acmeChanges.get(0).path("values").path("Name").asText()).isEqualTo("Acme");
        JsonNode update = byKey.get("salesforce:" + org + ":company:" + globex).get(1);
        assertThat(update.path("changedFields").toString()).isEqualTo("[\"Industry\",\"LastModifiedDate\"]");
        assertThat(update.path("values").path("Industry").asText()).isEqualTo("Agriculture");
        assertThat(update.path("origin").asText()).isEqualTo("event");
        assertThat(update.path("account").asText()).isEqualTo(org);
        JsonNode contact = byKey.get("salesforce:" + org + ":contact:" + ada).get(0);
        assertThat(contact.path("objectType").asText()).isEqualTo("contact");
        assertThat(contact.path("values").path("AccountId").asText()).isEqualTo(acme);
        assertThat(records).extracting(r -> RuntimeKit.header(r, "ce_type")).containsOnly(
                "io.interchange.customer.created", "io.interchange.customer.updated");
        assertThat(records).extracting(r -> RuntimeKit.header(r, "ce_source")).containsOnly("/crm/salesforce");
        // the position is stored once the last event's effect is committed
        await().atMost(Duration.ofSeconds(10)).until(() -> positions().find("salesforce", ACCOUNTS)
                .map(StreamPositions.Position::replayId).orElse(-1L) == peer.lastReplayId());
    }

    @ParameterizedTest
    @EnumSource(Databases.Backend.class)
    void restartMidStreamPublishesEveryChangeExactlyOnce(Databases.Backend backend) throws Exception {
        config = config(kafka.bootstrapServers(), backend);
        startRuntime();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) ids.add(peer.create("Account", Map.of("Name", "Before " + i)));
        read(3);
        long firstReplayId = replayIdOf(read(3).get(0));

        stopRuntime();
        // the runtime is down: events keep coming and wait in Salesforce's retention
        for (int i = 0; i < 2; i++) ids.add(peer.create("Account", Map.of("Name", "While down " + i)));
        peer.update("Account", ids.get(0), Map.of("Phone", "+49 30 1234"));
        // as if the last stop came after Kafka took the second and third events but before their position was stored:
        // they are delivered again and must not be published again
        try (Store store = Store.open(config)) {
            store.streamPositions().advance("salesforce", ACCOUNTS, firstReplayId, java.time.Instant.now());
        }

        startRuntime();
        ids.add(peer.create("Account", Map.of("Name", "After")));

        List<ConsumerRecord<String, byte[]>> records = read(7);
        Map<String, Long> perId = records.stream().collect(Collectors.groupingBy(r -> RuntimeKit.header(r, "ce_id"),
                Collectors.counting()));
        assertThat(perId).hasSize(7).allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1L));
        Set<String> names = new java.util.HashSet<>();
        for (ConsumerRecord<String, byte[]> r : records) names.add(JSON.readTree(r.value()).path("values").path("Name").asText());
        assertThat(names).contains("Before 0", "Before 1", "Before 2", "While down 0", "While down 1", "After");
        // the account channel resumed from its replay id: nothing to read back
        assertThat(counter("interchange.crm.backfills", ACCOUNTS)).isZero();
    }

    @Test
    void anExpiredReplayIdIsBackfilledByQueryWithoutGap() throws Exception {
        startRuntime();
        String acme = peer.create("Account", Map.of("Name", "Acme"));
        read(1);
        await().atMost(Duration.ofSeconds(10)).until(() -> positions().find("salesforce", ACCOUNTS)
                .map(StreamPositions.Position::replayId).isPresent());

        stopRuntime();
        peer.update("Account", acme, Map.of("Industry", "Mining"));
        String initech = peer.create("Account", Map.of("Name", "Initech"));
        String ada = peer.create("Contact", Map.of("LastName", "Byron"));
        // longer than Salesforce keeps events: the stored replay id is refused at the next subscribe
        peer.expireEvents();

        startRuntime();
        // the first run's event, then the backfill's records
        List<JsonNode> backfilled = values(read(4)).stream().filter(c -> c.path("origin").asText().equals("backfill"))
                .toList();
        String org = peer.orgId;
        assertThat(backfilled).extracting(c -> c.path("customer").path("globalId").asText())
                .containsExactlyInAnyOrder("salesforce:" + org + ":company:" + acme, "salesforce:" + org + ":company:" + initech,
                        "salesforce:" + org + ":contact:" + ada);
        assertThat(backfilled).filteredOn(c -> c.path("objectId").asText().equals(acme)).singleElement()
                .satisfies(c -> assertThat(c.path("values").path("Industry").asText()).isEqualTo("Mining"));
        // a change after the new subscription comes as an event: nothing between the read-back and it is lost
        String after = peer.create("Account", Map.of("Name", "After the backfill"));
        assertThat(values(read(5))).filteredOn(c -> c.path("objectId").asText().equals(after)).singleElement()
                .satisfies(c -> assertThat(c.path("origin").asText()).isEqualTo("event"));
        await().atMost(Duration.ofSeconds(10)).until(() -> counter("interchange.crm.backfills", ACCOUNTS) == 1.0);
        assertThat(counter("interchange.crm.backfill.records", ACCOUNTS)).isEqualTo(2.0);
        assertThat(counter("interchange.crm.backfill.records", CONTACTS)).isEqualTo(1.0);
        assertThat(positions().find("salesforce", ACCOUNTS).orElseThrow().backfillFrom()).isNull();
    }

    @Test
    void gapEventsAreReadBackAndOwnWritesAreNotPublished() throws Exception {
        startRuntime();
        String acme = peer.create("Account", Map.of("Name", "Acme"));
        read(1);
        // changed in the database without a change event, then announced by a gap event (header only)
        peer.changeWithoutEvent("Account", acme, Map.of("Industry", "Mining"));
        peer.gap("Account", "GAP_UPDATE", List.of(acme));
        List<JsonNode> changes = values(read(2));
        assertThat(changes.get(1).path("origin").asText()).isEqualTo("gap");
        assertThat(changes.get(1).path("change").asText()).isEqualTo("updated");
        assertThat(changes.get(1).path("values").path("Industry").asText()).isEqualTo("Mining");

        // this runtime's own write (Sforce-Call-Options client=interchange) comes back as a change event: not published
        assertThat(upsert("interchange", "EXT-1", "Written by us")).isEqualTo(200);
        // another integration's write is a change like any other
        assertThat(upsert("erp-sync", "EXT-2", "Written by them")).isEqualTo(200);
        List<JsonNode> after = values(read(3));
        assertThat(after.get(2).path("values").path("Name").asText()).isEqualTo("Written by them");
        assertThat(after.get(2).path("changeSource").asText()).endsWith(";client=erp-sync");
        await().atMost(Duration.ofSeconds(10)).until(() -> counter("interchange.salesforce.events.acknowledged") == 1.0);
        assertThat(values(read(3))).noneMatch(c -> c.path("values").path("Name").asText().equals("Written by us"));
    }

    @Test
    void aFailedEventIsDeliveredAgainAfterKafkaComesBack() throws Exception {
        Path logs = TempDirs.untilExit("sf-kafka-outage");
        EmbeddedKafka own = EmbeddedKafka.start(logs, 0);
        String bootstrap = own.bootstrapServers();
        int port = Integer.parseInt(bootstrap.substring(bootstrap.lastIndexOf(':') + 1));
        config = config(bootstrap);
        try {
            startRuntime();
            String first = peer.create("Account", Map.of("Name", "Before the outage"));
            assertThat(read(own, 1)).hasSize(1);
            own.close();
            // camel-salesforce has this event (and moved its replay id past it) while Kafka cannot take it
            String during = peer.create("Account", Map.of("Name", "During the outage"));
            String next = peer.create("Account", Map.of("Name", "Right after it"));
            await().atMost(Duration.ofSeconds(40)).until(() -> positions().find("salesforce", ACCOUNTS)
                    .map(StreamPositions.Position::replayId).orElse(-1L) < peer.lastReplayId()
                    && peer.subscriptions().contains(ACCOUNTS));
            own = EmbeddedKafka.start(logs, port);
            String after = peer.create("Account", Map.of("Name", "After the outage"));
            List<ConsumerRecord<String, byte[]>> records = read(own, 4);
            assertThat(values(records)).extracting(c -> c.path("objectId").asText())
                    .containsExactlyInAnyOrder(first, during, next, after);
            await().atMost(Duration.ofSeconds(10)).until(() -> positions().find("salesforce", ACCOUNTS)
                    .map(StreamPositions.Position::replayId).orElse(-1L) == peer.lastReplayId());
        } finally {
            if (runtime != null) runtime.close();
            runtime = null;
            own.close();
        }
    }

    @Test
    void deletionsAndOverflowsAnnouncedByGapEventsAreReadBack() throws Exception {
        startRuntime();
        String a = peer.create("Account", Map.of("Name", "A"));
        String b = peer.create("Account", Map.of("Name", "B"));
        read(2);
        // deleted without an event, then announced by a gap event naming it
        peer.changeWithoutEvent("Account", a, Map.of("IsDeleted", true));
        peer.gap("Account", "GAP_DELETE", List.of(a));
        List<JsonNode> deleted = values(read(3)).stream().filter(c -> c.path("origin").asText().equals("gap")).toList();
        assertThat(deleted).singleElement().satisfies(c -> {
            assertThat(c.path("objectId").asText()).isEqualTo(a);
            assertThat(c.path("change").asText()).isEqualTo("deleted");
        });
        // a transaction too big for events: one GAP_OVERFLOW without record ids; what it changed is read back
        peer.changeWithoutEvent("Account", b, Map.of("Industry", "Overflowed"));
        peer.gap("Account", "GAP_OVERFLOW", List.of());
        // (A, deleted just before, may be read back again as well: the overflow reads from a second before it)
        List<JsonNode> overflow = values(readAtLeast(kafka, 4)).stream().filter(c -> c.path("objectId").asText().equals(b)
                && c.path("origin").asText().equals("gap")).toList();
        assertThat(overflow).singleElement().satisfies(c ->
                assertThat(c.path("values").path("Industry").asText()).isEqualTo("Overflowed"));
    }

    @Test
    void aDroppedStreamingSessionIsResumedWithoutLoss() throws Exception {
        startRuntime();
        String first = peer.create("Account", Map.of("Name", "Before the drop"));
        read(1);
        // Salesforce forgets the client (403::Unknown client): camel-salesforce handshakes and subscribes again
        peer.dropStreamingClients();
        String during = peer.create("Account", Map.of("Name", "While reconnecting"));
        await().atMost(Duration.ofSeconds(30)).until(() -> peer.subscriptions().containsAll(List.of(ACCOUNTS, CONTACTS)));
        String after = peer.create("Account", Map.of("Name", "After the reconnect"));
        assertThat(values(read(3))).extracting(c -> c.path("objectId").asText())
                .containsExactlyInAnyOrder(first, during, after);
    }

    @Test
    void anEventTheMappingCannotTakeIsParkedAndTheChannelMovesOn() throws Exception {
        startRuntime();
        com.fasterxml.jackson.databind.node.ObjectNode payload = JSON.createObjectNode();
        var header = payload.putObject("ChangeEventHeader");
        header.put("entityName", "Account").put("changeType", "UPDATE").put("changeOrigin", "")
                .put("transactionKey", "0002343d-9d90-e395-ed20-cf416ba652ad").put("sequenceNumber", 1)
                .put("commitTimestamp", System.currentTimeMillis()).put("commitUser", "0055g0000000001AAA");
        header.putArray("recordIds").add("0015g0000000099AAA");
        // not the documented list of field names
        header.put("changedFields", "Name");
        payload.put("Name", "Malformed");
        peer.publishRaw("Account", payload);
        String fine = peer.create("Account", Map.of("Name", "Fine"));
        assertThat(values(read(1)).get(0).path("objectId").asText()).isEqualTo(fine);
        assertThat(runtime.store().deadLetters().count(SalesforceChangeEvents.PARKED_ROUTE_ID, "OPEN")).isEqualTo(1);
        await().atMost(Duration.ofSeconds(10)).until(() -> positions().find("salesforce", ACCOUNTS)
                .map(StreamPositions.Position::replayId).orElse(-1L) == peer.lastReplayId());
    }

    // ------------------------------------------------------------------------------------------------ helpers

    int upsert(String client, String externalId, String name) throws Exception {
        String body = "{\"allOrNone\":false,\"records\":[{\"attributes\":{\"type\":\"Account\"},\"Ext_Id__c\":\""
                + externalId + "\",\"Name\":\"" + name + "\"}]}";
        HttpClient http = HttpClient.newHttpClient();
        String token = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(peer.url() + "/services/oauth2/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&client_id=" + KEY
                        + "&client_secret=" + SECRET)).build(), HttpResponse.BodyHandlers.ofString()).body())
                .path("access_token").asText();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(peer.url()
                        + "/services/data/v59.0/composite/sobjects/Account/Ext_Id__c"))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .header("Sforce-Call-Options", "client=" + client)
                .method("PATCH", HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        return r.statusCode();
    }

    StreamPositions positions() {
        return runtime.store().streamPositions();
    }

    double counter(String name, String... channel) {
        MeterRegistry meters = runtime.camelContext().getRegistry().findByType(MeterRegistry.class).iterator().next();
        var search = meters.find(name);
        if (channel.length > 0) search = search.tag("channel", channel[0]);
        return search.counters().stream().mapToDouble(Counter::count).sum();
    }

    static long replayIdOf(ConsumerRecord<String, byte[]> r) {
        String correlation = RuntimeKit.header(r, "ce_correlationid");
        return Long.parseLong(correlation.substring(correlation.indexOf('#') + 1));
    }

    static List<JsonNode> values(List<ConsumerRecord<String, byte[]>> records) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : records) out.add(JSON.readTree(r.value()));
        return out;
    }

    /** The topic from the beginning, once it holds {@code expected} records and a second passes without more. */
    List<ConsumerRecord<String, byte[]>> read(int expected) {
        return read(kafka, expected);
    }

    List<ConsumerRecord<String, byte[]>> read(EmbeddedKafka broker, int expected) {
        List<ConsumerRecord<String, byte[]>> out = readAtLeast(broker, expected);
        assertThat(out).as("records on " + topic).hasSize(expected);
        return out;
    }

    List<ConsumerRecord<String, byte[]>> readAtLeast(EmbeddedKafka broker, int expected) {
        List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = RuntimeKit.reader(broker.bootstrapServers())) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
            long quietUntil = Long.MAX_VALUE;
            while (System.nanoTime() < deadline && System.nanoTime() < quietUntil) {
                var batch = c.poll(Duration.ofMillis(200));
                batch.forEach(out::add);
                if (!batch.isEmpty() || out.size() < expected) quietUntil = Long.MAX_VALUE;
                if (out.size() >= expected && quietUntil == Long.MAX_VALUE) quietUntil = System.nanoTime() + 1_000_000_000L;
            }
        }
        return out;
    }
}
