package io.interchange.flow;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.config.Settings;
import io.interchange.connectors.kafka.KafkaAdmin;
import io.interchange.connectors.loyalty.VoucherifySignatureVerifier;
import io.interchange.ledger.FilingRecorders;
import io.interchange.routes.LedgerPostingRoute;
import io.interchange.sandbox.LegacyErpPeer;
import io.interchange.store.LoyaltyFilings;
import io.interchange.testkit.Databases;
import io.interchange.testkit.RuntimeKit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The daily filing of loyalty points transactions (FR01 files daily in mappings/loyalty/point-values.csv; its books
 * are the legacy ERP's, in Europe/Paris): a closed day's transactions are posted once, as one journal entry with a line
 * pair per transaction named by its id, and the store says which filing each went into; a transaction of the open day
 * waits; a redelivered one is filed once; the realtime entities keep posting one by one.
 */
class LoyaltyDailyFilingTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String SECRET = "voucherify-" + UUID.randomUUID();
    static final String PROJECT = "proj_filing";
    static final Path FIXTURE = Path.of("mappings/loyalty/transaction.fixtures/accrual-order-paid.input.json");
    static final ZoneId PARIS = ZoneId.of("Europe/Paris");
    static final AtomicLong IDS = new AtomicLong(System.currentTimeMillis());
    static RuntimeKit kit;

    @BeforeAll
    static void start() throws Exception {
        kit = RuntimeKit.start(Databases.Backend.H2, Map.of("interchange.flows", "loyalty-webhook,billing-ledger",
                "interchange.loyalty.webhook-secret", SECRET,
                "interchange.loyalty.filing-check", "PT1S", "interchange.loyalty.filing-grace", "PT0S"));
    }

    @AfterAll
    static void stop() {
        if (kit != null) kit.close();
    }

    static String customer(String entity) {
        return customer(kit, entity);
    }

    /** A customer of this legal entity, known to the runtime of {@code k}. */
    static String customer(RuntimeKit k, String entity) {
        String globalId = k.runtime.store().crossReferences().mint();
        k.runtime.store().customerFields().write(Optional.empty(), globalId, "legalEntity", entity, "salesforce",
                Instant.now());
        return globalId;
    }

    /** A delivery of a new transaction of this many points, made at this time, held by this customer. */
    static ObjectNode transaction(String globalId, long points, Instant at) throws Exception {
        ObjectNode w = (ObjectNode) JSON.readTree(FIXTURE.toFile());
        long n = IDS.incrementAndGet();
        w.put("id", "whs_" + n).put("project_id", PROJECT);
        ((ObjectNode) w.path("event")).put("id", "evvou_" + n);
        ObjectNode t = (ObjectNode) w.path("data").path("transaction");
        t.put("id", "vtx_" + n).put("created_at", at.toString());
        if (points < 0) t.put("type", "POINTS_REDEMPTION");
        ((ObjectNode) t.path("details").path("balance")).put("points", points);
        ((ObjectNode) w.path("data").path("holder")).put("source_id", globalId);
        return w;
    }

    static String send(ObjectNode webhook) throws Exception {
        return send(kit, webhook);
    }

    /** Delivers the webhook, signed with {@link #SECRET}, to the runtime of {@code k}; returns the status it answered. */
    static String send(RuntimeKit k, ObjectNode webhook) throws Exception {
        byte[] body = JSON.writeValueAsBytes(webhook);
        HttpResponse<String> answer = k.post("/webhooks/loyalty", body, Map.of("Content-Type", "application/json",
                VoucherifySignatureVerifier.HEADER, VoucherifySignatureVerifier.sign(body, SECRET)));
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        return JSON.readTree(answer.body()).path("status").asText();
    }

    static String eventId(ObjectNode webhook) {
        return "voucherify:" + PROJECT + ":" + webhook.path("data").path("transaction").path("id").asText();
    }

    @Test
    void aClosedDaysTransactionsArePostedOnceAsOneEntryTraceableToEachTransaction() throws Exception {
        LocalDate today = LocalDate.now(PARIS);
        Instant yesterdayNoon = today.minusDays(1).atTime(12, 0).atZone(PARIS).toInstant();
        String a = customer("FR01");
        String b = customer("FR01");
        List<ObjectNode> closedDay = new ArrayList<>(List.of(transaction(a, 120, yesterdayNoon),
                transaction(b, 45, yesterdayNoon.plusSeconds(60)), transaction(a, -100, yesterdayNoon.plusSeconds(120))));
        for (ObjectNode w : closedDay) {
            assertThat(send(w)).isEqualTo("accepted");
            assertThat(send(w)).isEqualTo("duplicate");
        }
        ObjectNode openDay = transaction(b, 30, Instant.now());
        assertThat(send(openDay)).isEqualTo("accepted");

        String filingId = LoyaltyFilings.filingId("FR01", today.minusDays(1), 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> postings("posting:" + filingId).size() == 1);
        LegacyErpPeer.Posting entry = postings("posting:" + filingId).get(0);
        assertThat(entry.company()).isEqualTo("FR-01");
        assertThat(entry.lines()).hasSize(2 * closedDay.size());
        BigDecimal liability = BigDecimal.ZERO;
        for (LegacyErpPeer.Line l : entry.lines()) {
            if (l.account().equals("21800000")) liability = liability.add("C".equals(l.side()) ? l.amount() : l.amount().negate());
        }
        assertThat(liability).as("net points liability: 120 + 45 - 100 points at 1 cent").isEqualByComparingTo("0.65");
        for (ObjectNode w : closedDay) {
            String transactionId = w.path("data").path("transaction").path("id").asText();
            assertThat(entry.rawXml()).as("the line texts name %s", transactionId).contains(transactionId);
            assertThat(kit.runtime.store().loyaltyFilings().filingOf(eventId(w))).hasValue(filingId);
        }
        // no transaction of FR01 was posted on its own
        for (ObjectNode w : closedDay) assertThat(postings("posting:" + eventId(w))).isEmpty();

        // the open day's transaction waits for its day to close
        assertThat(kit.runtime.store().loyaltyFilings().filingOf(eventId(openDay))).isEmpty();
        assertThat(kit.runtime.store().loyaltyFilings().unfiled("FR01")).isEqualTo(1);
        assertThat(postings("posting:" + eventId(openDay))).isEmpty();

        // the job runs every second: the day stays filed once, its filing published once
        Thread.sleep(2500);
        assertThat(postings("posting:" + filingId)).hasSize(1);
        assertThat(kit.runtime.store().loyaltyFilings().find(filingId)).hasValueSatisfying(f -> {
            assertThat(f.transactions()).isEqualTo(3);
            assertThat(f.amountMinor()).isEqualTo(65);
            assertThat(f.publishedAt()).isNotNull();
        });
        assertThat(kit.runtime.store().confirmations().find("ledger:" + filingId)).isPresent();
    }

    @Test
    void realtimeEntitiesStillPostEachTransactionAsItArrives() throws Exception {
        ObjectNode w = transaction(customer("GB01"), 50, Instant.now());
        assertThat(send(w)).isEqualTo("accepted");
        await().atMost(Duration.ofSeconds(30)).until(() -> postings("posting:" + eventId(w)).size() == 1);
    }

    /**
     * An upgrade from a version whose recorder had a consumer group of its own: the transactions between that group's
     * offsets and the ledger's (read past by the ledger then, not yet recorded by the recorder) are recorded by the
     * first filing check, once, and the recorder group is deleted.
     */
    @Test
    void anUpgradeRecordsWhatTheRecorderGroupOfEarlierVersionsHadNotYetRecorded() throws Exception {
        String a = customer("FR01");
        List<ObjectNode> gap = List.of(transaction(a, 10, Instant.now()), transaction(a, 20, Instant.now()));
        for (ObjectNode w : gap) assertThat(send(w)).isEqualTo("accepted");
        LoyaltyFilings filings = kit.runtime.store().loyaltyFilings();
        await().atMost(Duration.ofSeconds(30)).until(() -> gap.stream().allMatch(w -> filings.isRecorded(eventId(w))));
        long before = filings.unfiled("FR01");
        String topic = kit.runtime.config().get(Settings.LOYALTY_TOPIC);
        String group = kit.runtime.config().get(Settings.KAFKA_CONSUMER_GROUP);
        String recorder = FilingRecorders.recorderGroup(group);
        // where the two transactions are on the topic
        Map<TopicPartition, Long> first = new HashMap<>();
        Map<TopicPartition, Long> last = new HashMap<>();
        List<String> ids = gap.stream().map(LoyaltyDailyFilingTest::eventId).toList();
        for (ConsumerRecord<String, byte[]> r : kit.readTopic(topic, Duration.ofSeconds(2))) {
            if (ids.contains(RuntimeKit.header(r, "ce_id"))) {
                first.merge(new TopicPartition(r.topic(), r.partition()), r.offset(), Math::min);
                last.merge(new TopicPartition(r.topic(), r.partition()), r.offset(), Math::max);
            }
        }
        assertThat(first).isNotEmpty();
        List<String> ledgerGroups = List.of(LedgerPostingRoute.consumerGroup(group, "S4HANA"),
                LedgerPostingRoute.consumerGroup(group, "LEGACY"));
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kit.kafka.bootstrapServers()))) {
            // both ledger groups have committed past them: the ledger will not read them again
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                for (String ledger : ledgerGroups) {
                    var committed = KafkaAdmin.committed(admin, ledger, topic);
                    for (TopicPartition tp : first.keySet()) {
                        if (committed.get(tp) == null || committed.get(tp).offset() <= last.get(tp)) return false;
                    }
                }
                return true;
            });
        }
        // as the earlier version left them: the ledger read past them, the recorder's group had not got there
        try (Connection c = kit.runtime.store().dataSource().getConnection();
             PreparedStatement forget = c.prepareStatement("DELETE FROM loyalty_filing_item WHERE event_id = ?")) {
            for (String id : ids) {
                forget.setString(1, id);
                assertThat(forget.executeUpdate()).isEqualTo(1);
            }
        }
        assertThat(filings.unfiled("FR01")).isEqualTo(before - 2);

        kit.restartRuntime(() -> {
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", kit.kafka.bootstrapServers()))) {
                Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                for (String ledger : ledgerGroups) {
                    KafkaAdmin.committed(admin, ledger, topic).forEach((tp, o) -> offsets.merge(tp, o,
                            (x, y) -> x.offset() >= y.offset() ? x : y));
                }
                first.forEach((tp, offset) -> offsets.put(tp, new OffsetAndMetadata(offset)));
                admin.alterConsumerGroupOffsets(recorder, offsets).all().get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });

        LoyaltyFilings after = kit.runtime.store().loyaltyFilings();
        await().atMost(Duration.ofSeconds(30)).until(() -> gap.stream().allMatch(w -> after.isRecorded(eventId(w))));
        assertThat(after.unfiled("FR01")).as("the two, once, and nothing else again").isEqualTo(before);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kit.kafka.bootstrapServers()))) {
            await().atMost(Duration.ofSeconds(30)).until(() -> admin.listConsumerGroups().all().get().stream()
                    .noneMatch(g -> g.groupId().equals(recorder)));
        }
    }

    static List<LegacyErpPeer.Posting> postings(String reference) {
        return postings(kit, reference);
    }

    static List<LegacyErpPeer.Posting> postings(RuntimeKit k, String reference) {
        return k.legacy.postings().stream().filter(p -> reference.equals(p.reference())).toList();
    }
}
