package io.interchange.flow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.connectors.loyalty.LoyaltyWebhook;
import io.interchange.loyalty.LoyaltyEarning;
import io.interchange.mapping.ErpReference;
import io.interchange.sandbox.LegacyErpPeer;
import io.interchange.sandbox.S4HanaPeer;
import io.interchange.sandbox.loyalty.LoyaltyPeer;
import io.interchange.sandbox.loyalty.LoyaltyWebhookSender;
import io.interchange.store.DeadLetter;
import io.interchange.testkit.Databases;
import io.interchange.testkit.RuntimeKit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The loyalty platform's points end to end, on real Kafka and H2, with the loyalty platform's peer sending its signed
 * webhooks to the runtime and the S/4HANA and legacy ERP peers taking the postings (flows {@code loyalty-webhook},
 * {@code billing-ledger} and {@code loyalty-earning}): members in DE01 (S/4HANA, 1 cent a point) and GB01 (legacy ERP,
 * 0.8 pence a point) earn by paid invoices (canonical payments on the billing topic) and by additions, redeem, lose
 * points to expiry and to a removal; every transaction at the platform is exactly one entry in its entity's ERP, the
 * platform's re-deliveries change nothing, and per entity the platform's points at their value equal the net credit
 * to the points liability in that entity's ledger. Then the runtime restarts on the same store and Kafka while the
 * platform goes on (its webhooks retried until the runtime answers) and it all still holds.
 */
class LoyaltyLedgerFlowTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String APP_ID = "app-ledger";
    static final String APP_TOKEN = "token-" + UUID.randomUUID();
    static final String CAMPAIGN = "camp_ledger";
    static final String SECRET = "voucherify-ledger-" + UUID.randomUUID();
    static final String LIABILITY = "21800000";
    /** Minor units per point, as mappings/loyalty/point-values.csv has them (written out here, not read from it). */
    static final Map<String, BigDecimal> POINT_VALUE = Map.of("DE01", BigDecimal.ONE, "GB01", new BigDecimal("0.8"));
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final AtomicLong SOURCE_IDS = new AtomicLong();

    record Member(String globalId, String code, String entity) {
    }

    static LoyaltyPeer loyalty;
    static RuntimeKit kit;
    static KafkaProducer<String, byte[]> producer;

    @BeforeAll
    static void start() throws Exception {
        loyalty = new LoyaltyPeer(0, APP_ID, APP_TOKEN).program(CAMPAIGN, "Ledger Program")
                .tier(CAMPAIGN, "ltr_silver", "Silver", 300, 1499).tier(CAMPAIGN, "ltr_gold", "Gold", 1500, 10_000_000)
                .start();
        Map<String, String> settings = new HashMap<>();
        settings.put("interchange.flows", "loyalty-webhook,billing-ledger,loyalty-earning");
        settings.put("interchange.loyalty.webhook-secret", SECRET);
        settings.put("interchange.loyalty.api-url", loyalty.url());
        settings.put("interchange.loyalty.app-id", APP_ID);
        settings.put("interchange.loyalty.app-token", APP_TOKEN);
        settings.put("interchange.loyalty.campaign-id", CAMPAIGN);
        settings.put("interchange.loyalty.api-timeout", "PT2S");
        settings.put("interchange.loyalty.api-max-rate", "50");
        settings.put("interchange.loyalty.earning-start", "earliest");
        settings.put("interchange.route.loyalty.earning.initial-delay", "PT0.2S");
        settings.put("interchange.route.loyalty.earning.max-delay", "PT1S");
        kit = RuntimeKit.start(Databases.Backend.H2, settings);
        // the platform's webhooks to the runtime; one minute of Voucherify's retry schedule is 200 ms here
        loyalty.sendWebhooks(URI.create("http://127.0.0.1:" + kit.httpPort + LoyaltyWebhook.PATH), SECRET,
                Duration.ofMillis(200));
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kit.kafka.bootstrapServers());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        producer = new KafkaProducer<>(p);
    }

    @AfterAll
    static void stop() {
        if (producer != null) producer.close();
        if (loyalty != null) loyalty.close();
        if (kit != null) kit.close();
    }

    @Test
    void everyPointsTransactionIsOneLiabilityEntryInItsEntitysErpAndTotalsMatchThePlatformAcrossARestart()
            throws Exception {
        Member anna = member("DE01");
        Member bernd = member("DE01");
        Member clare = member("GB01");
        Member dev = member("GB01");
        List<Member> members = List.of(anna, bernd, clare, dev);

        // paid invoices earn through flow loyalty-earning: 1,234.56 EUR at 1 a euro, 99.99 GBP at 2 a pound
        List<String> paid = new ArrayList<>();
        paid.add(publishPaid(anna, "EUR", 123_456));
        paid.add(publishPaid(bernd, "EUR", 45_000));
        paid.add(publishPaid(clare, "GBP", 9_999));
        paid.add(publishPaid(dev, "GBP", 55_555));
        await().atMost(Duration.ofSeconds(60)).until(() -> paid.stream().allMatch(LoyaltyLedgerFlowTest::earned));
        assertThat(balance(anna)).isEqualTo(1_234);
        assertThat(balance(clare)).isEqualTo(198);

        // additions, accruals, redemptions, a removal and the platform's own expiry
        add(anna, 400);            // 1,634: Gold
        add(clare, 133);
        loyalty.addPoints(bernd.code(), 77);
        loyalty.addPoints(dev.code(), 1_001);
        redeem(anna, 250);         // 1,384: down to Silver
        redeem(clare, 101);
        redeem(dev, 333);
        add(bernd, -27);           // a removal
        assertThat(loyalty.expire(clare.code(), 57)).isEqualTo(57);
        assertThat(loyalty.expire(bernd.code(), 13)).isEqualTo(13);
        assertThat(loyalty.expire(dev.code(), 3)).isEqualTo(3);

        assertEachTransactionPostedOnceAndTotalsMatch(members);
        redeliverAndCheckNothingChanges(members, 3);

        // the runtime stops; the platform goes on (its webhooks fail and are retried) and invoices are paid
        List<String> paidWhileDown = new ArrayList<>();
        kit.restartRuntime(() -> {
            try {
                add(bernd, 1_111);
                redeem(anna, 99);
                loyalty.addPoints(clare.code(), 45);
                loyalty.expire(dev.code(), 21);
                paidWhileDown.add(publishPaid(anna, "EUR", 2_099));
                paidWhileDown.add(publishPaid(dev, "GBP", 1_234));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        await().atMost(Duration.ofSeconds(60)).until(() -> paidWhileDown.stream().allMatch(LoyaltyLedgerFlowTest::earned));
        // and after the restart
        add(clare, 12);
        redeem(bernd, 500);
        loyalty.expire(anna.code(), 31);
        add(dev, 7);

        assertEachTransactionPostedOnceAndTotalsMatch(members);
        redeliverAndCheckNothingChanges(members, 2);
        assertThat(kit.runtime.store().deadLetters().list(null, DeadLetter.OPEN, 100)).as("nothing parked").isEmpty();
        List<LoyaltyWebhookSender.Delivery> deliveries = loyalty.webhooks().deliveries();
        assertThat(deliveries).as("every webhook delivered in the end").allMatch(LoyaltyWebhookSender.Delivery::delivered);
        assertThat(deliveries).as("webhooks sent while the runtime was down failed first and were retried")
                .anyMatch(d -> d.statuses().get(0) != 200);
        System.out.printf("loyalty ledger: %d transactions (%s), %d webhooks (%d failed first, %d sent more than once), "
                        + "S/4HANA 1010 liability credit %s EUR, legacy GB-01 %s GBP%n",
                members.stream().mapToInt(m -> loyalty.transactions(m.code()).size()).sum(),
                members.stream().flatMap(m -> loyalty.transactions(m.code()).stream())
                        .collect(Collectors.groupingBy(tx -> tx.path("type").asText(), Collectors.counting())),
                deliveries.size(), deliveries.stream().filter(d -> d.statuses().get(0) != 200).count(),
                deliveries.stream().filter(d -> d.statuses().size() > 1).count(), s4LiabilityCredit("1010"),
                legacyLiabilityCredit("GB-01"));
    }

    // ------------------------------------------------------------------------------------- verification

    /**
     * Waits until each transaction at the platform has an entry in its entity's ERP, then checks it is exactly one
     * each and that, per entity, the points at their value (half-even per transaction) are the net credit to the
     * points liability in that entity's ERP.
     */
    static void assertEachTransactionPostedOnceAndTotalsMatch(List<Member> members) {
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
            for (Member m : members) {
                for (JsonNode tx : loyalty.transactions(m.code())) {
                    assertThat(entries(m, tx.path("id").asText())).as("ERP entries of %s (%s) of %s", tx.path("id")
                            .asText(), tx.path("type").asText(), m).isEqualTo(1);
                }
            }
        });
        for (String entity : List.of("DE01", "GB01")) {
            long expectedMinor = 0;
            int transactions = 0;
            for (Member m : members) {
                if (!m.entity().equals(entity)) continue;
                for (JsonNode tx : loyalty.transactions(m.code())) {
                    long points = tx.path("details").path("balance").path("points").asLong();
                    expectedMinor += POINT_VALUE.get(entity).multiply(BigDecimal.valueOf(points))
                            .setScale(0, RoundingMode.HALF_EVEN).longValueExact();
                    transactions++;
                }
            }
            BigDecimal credited = entity.equals("DE01") ? s4LiabilityCredit("1010") : legacyLiabilityCredit("GB-01");
            assertThat(credited).as("%s: net credit to the points liability of %d transactions", entity, transactions)
                    .isEqualByComparingTo(BigDecimal.valueOf(expectedMinor).movePointLeft(2));
        }
        assertThat(kit.legacy.postings()).as("no DE01 loyalty entry in the legacy ERP")
                .noneMatch(p -> p.company().equals("DE-01"));
        assertThat(kit.s4.postings()).as("no GB01 entry in S/4HANA").noneMatch(p -> p.companyCode().equals("GB10"));
    }

    /** Entries of one platform transaction in its member's entity's ERP, found by the reference it is posted under. */
    static long entries(Member m, String transactionId) {
        String sourceEvent = "voucherify:" + project() + ":" + transactionId;
        if (m.entity().equals("DE01")) {
            String reference = ErpReference.of(sourceEvent);
            return kit.s4.postings().stream().filter(p -> reference.equals(p.documentReferenceId())).count();
        }
        String reference = "posting:" + sourceEvent;
        return kit.legacy.postings().stream().filter(p -> reference.equals(p.reference())).count();
    }

    /** Credits less debits on the liability account in S/4HANA's postings of a company code (SAP signs credits -). */
    static BigDecimal s4LiabilityCredit(String companyCode) {
        return kit.s4.postings().stream().filter(p -> companyCode.equals(p.companyCode()))
                .flatMap(p -> p.lines().stream()).filter(l -> LIABILITY.equals(l.glAccount()))
                .map(S4HanaPeer.Line::amount).reduce(BigDecimal.ZERO, BigDecimal::add).negate();
    }

    /** Credits less debits on the liability account in the legacy ERP's postings of a company. */
    static BigDecimal legacyLiabilityCredit(String company) {
        BigDecimal sum = BigDecimal.ZERO;
        for (LegacyErpPeer.Posting p : kit.legacy.postings()) {
            if (!company.equals(p.company())) continue;
            for (LegacyErpPeer.Line l : p.lines()) {
                if (LIABILITY.equals(l.account())) sum = "C".equals(l.side()) ? sum.add(l.amount()) : sum.subtract(l.amount());
            }
        }
        return sum;
    }

    /**
     * The platform sends every {@code every}-th webhook so far, and every tier change, again unchanged; once the
     * runtime has answered each of them, the loyalty topic still holds one event per transaction and per tier change,
     * and the ERPs one entry per transaction.
     */
    static void redeliverAndCheckNothingChanges(List<Member> members, int every) throws Exception {
        List<LoyaltyWebhookSender.Delivery> sent = loyalty.webhooks().deliveries();
        Map<String, Integer> answersBefore = new HashMap<>();
        for (int i = 0; i < sent.size(); i++) {
            LoyaltyWebhookSender.Delivery d = sent.get(i);
            if (i % every == 0 || d.type().startsWith("customer.loyalty.tier.")) {
                answersBefore.put(d.id(), d.statuses().size());
                loyalty.webhooks().redeliver(d.id());
            }
        }
        assertThat(answersBefore).isNotEmpty();
        await().atMost(Duration.ofSeconds(30)).until(() -> answersBefore.entrySet().stream().allMatch(e -> {
            LoyaltyWebhookSender.Delivery d = loyalty.webhooks().delivery(e.getKey());
            return d.statuses().size() > e.getValue() && d.statuses().get(d.statuses().size() - 1) == 200;
        }));

        Map<String, Long> published = kit.readTopic("interchange.loyalty.v1", Duration.ofSeconds(2)).stream()
                .collect(Collectors.groupingBy(r -> RuntimeKit.header(r, "ce_id"), Collectors.counting()));
        Set<String> transactions = members.stream().flatMap(m -> loyalty.transactions(m.code()).stream())
                .map(tx -> "voucherify:" + project() + ":" + tx.path("id").asText()).collect(Collectors.toSet());
        List<String> tierEvents = loyalty.webhooks().deliveries().stream()
                .filter(d -> d.type().startsWith("customer.loyalty.tier.")).map(d -> {
                    try {
                        return "voucherify:" + project() + ":"
                                + LoyaltyWebhookSender.read(d.body()).path("event").path("id").asText();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }).toList();
        assertThat(tierEvents).as("the Gold member's upgrade and downgrade among the tier changes").hasSizeGreaterThan(2);
        for (String id : transactions) assertThat(published.get(id)).as("events of transaction %s", id).isEqualTo(1L);
        for (String id : tierEvents) assertThat(published.get(id)).as("events of tier change %s", id).isEqualTo(1L);
        assertThat(published.keySet()).as("nothing else on the loyalty topic")
                .containsExactlyInAnyOrderElementsOf(concat(transactions, tierEvents));
        for (Member m : members) {
            for (JsonNode tx : loyalty.transactions(m.code())) {
                assertThat(entries(m, tx.path("id").asText())).as("entries of %s", tx.path("id").asText()).isEqualTo(1);
            }
        }
    }

    private static List<String> concat(Set<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    /** The project of the platform's webhooks (in every envelope). */
    static String project() {
        try {
            return LoyaltyWebhookSender.read(loyalty.webhooks().deliveries().get(0).body()).path("project_id").asText();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------------------------- the platform and billing

    /**
     * A customer of the master in a legal entity (as the customer sync records a CRM's legalEntity), with a member on
     * the platform (a Voucherify customer whose source_id is the global id) linked as the customer sync links it.
     */
    static Member member(String entity) throws Exception {
        String globalId = kit.runtime.store().crossReferences().mint();
        assertThat(kit.runtime.store().customerFields().write(Optional.empty(), globalId, "legalEntity", entity,
                "salesforce", Instant.now())).isTrue();
        ObjectNode body = JSON.createObjectNode();
        body.putObject("customer").put("source_id", globalId);
        JsonNode card = call("/v1/loyalties/" + CAMPAIGN + "/members", body);
        String code = card.path("code").asText();
        kit.runtime.store().crossReferences().link(globalId, "loyalty", "", code);
        return new Member(globalId, code, entity);
    }

    /** Adds (or with negative points removes) points through the platform's balance API. */
    static void add(Member m, long points) throws Exception {
        call("/v1/loyalties/members/" + m.code() + "/balance", JSON.createObjectNode().put("points", points)
                .put("reason", "test").put("source_id", "test:" + SOURCE_IDS.incrementAndGet()));
    }

    /** Spends points on a pay-with-points reward. */
    static void redeem(Member m, long points) throws Exception {
        ObjectNode body = JSON.createObjectNode();
        body.putObject("reward").put("id", "rew_test").put("points", points);
        call("/v1/loyalties/members/" + m.code() + "/redemption", body);
    }

    static long balance(Member m) {
        return loyalty.member(m.code()).path("loyalty_card").path("balance").asLong();
    }

    static JsonNode call(String path, ObjectNode body) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(loyalty.url() + path))
                .header("X-App-Id", APP_ID).header("X-App-Token", APP_TOKEN).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    /** A canonical payment.succeeded as the billing edge publishes it (binary CloudEvents on the billing topic). */
    static String publishPaid(Member m, String currency, long amountMinor) {
        String eventId = "evt-" + UUID.randomUUID();
        ObjectNode payment = JSON.createObjectNode().put("paymentId", "pi_" + eventId).put("invoiceId", "in_" + eventId)
                .put("invoiceNumber", "INV-" + eventId.substring(4, 16));
        payment.putObject("customer").put("globalId", m.globalId()).put("system", "billing").put("systemId", "cus_1");
        payment.put("currency", currency).put("amountMinor", amountMinor).put("status", "SUCCEEDED")
                .put("occurredOn", java.time.LocalDate.now(java.time.ZoneOffset.UTC).toString()).put("attemptCount", 1)
                .putNull("failureMessage");
        ProducerRecord<String, byte[]> record = new ProducerRecord<>("interchange.billing.v1", m.globalId(),
                payment.toString().getBytes(StandardCharsets.UTF_8));
        Map<String, String> headers = Map.of("ce_specversion", "1.0", "ce_id", eventId, "ce_source", "/billing/stripe",
                "ce_type", "io.interchange.billing.payment.succeeded", "ce_subject", m.globalId(),
                "ce_time", Instant.now().toString(), "ce_dataschema", "urn:interchange:canonical:payment:1",
                "ce_legalentity", m.entity(), "content-type", "application/json");
        headers.forEach((k, v) -> record.headers().add(k, v.getBytes(StandardCharsets.UTF_8)));
        try {
            producer.send(record).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return eventId;
    }

    static boolean earned(String eventId) {
        return "DONE".equals(kit.runtime.store().idempotency().state(LoyaltyEarning.key(eventId)));
    }
}
