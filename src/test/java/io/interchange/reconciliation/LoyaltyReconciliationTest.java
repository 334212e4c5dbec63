package io.interchange.reconciliation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.connectors.loyalty.LoyaltyWebhook;
import io.interchange.connectors.loyalty.VoucherifySignatureVerifier;
import io.interchange.ledger.LoyaltyDailyFiling;
import io.interchange.model.CanonicalType;
import io.interchange.model.CustomerRef;
import io.interchange.model.Envelope;
import io.interchange.model.LoyaltyFiling;
import io.interchange.model.LoyaltyTransaction;
import io.interchange.routes.LoyaltyFilingRoute;
import io.interchange.sandbox.loyalty.LoyaltyPeer;
import io.interchange.sandbox.loyalty.LoyaltyWebhookSender;
import io.interchange.store.LoyaltyFilings;
import io.interchange.store.ReconciliationRuns;
import io.interchange.store.ReconciliationRuns.Difference;
import io.interchange.store.ReconciliationRuns.Kind;
import io.interchange.testkit.Databases;
import io.interchange.testkit.RuntimeKit;
import org.apache.camel.component.kafka.KafkaConstants;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The points liability reconciled end to end (comparison {@code loyalty-erp}), on H2 and PostgreSQL: members of DE01
 * (posted in real time to S/4HANA) and FR01 (filed daily to the legacy ERP) earn, redeem and lose points at the loyalty
 * platform's peer, whose signed webhooks reach a whole runtime (real Kafka, the ledger flow, the daily filing); then a
 * run reads the program's transactions from the platform's list API, page by page, and each entity's ledger. A clean
 * day reports nothing; then on the same day a transaction never announced, a posting of a transaction the platform
 * does not have, a transaction posted again in a filing and a transaction posted with another amount are each found
 * with their records, and nothing else.
 *
 * <p>The day is yesterday in Paris: the daily filing files the last closed day, dated that day.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LoyaltyReconciliationTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String APP_ID = "app-reconciliation";
    static final String APP_TOKEN = "token-" + UUID.randomUUID();
    static final String CAMPAIGN = "camp_reconciled";
    static final String SECRET = "voucherify-reconciliation-" + UUID.randomUUID();
    static final String LOYALTY_TOPIC = "interchange.loyalty.v1";
    static final ZoneId PARIS = ZoneId.of("Europe/Paris");
    static final LocalDate DAY = LocalDate.now(PARIS).minusDays(1);
    static final Path FIXTURE = Path.of("mappings/loyalty/transaction.fixtures/accrual-order-paid.input.json");
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final AtomicLong FORGED = new AtomicLong(System.currentTimeMillis());

    record Member(String globalId, String code, String entity) {
    }

    /** One backend's runtime, platform, members and the transactions of the clean day. */
    static final class Setup {
        RuntimeKit kit;
        LoyaltyPeer loyalty;
        Instant next = DAY.atTime(9, 0).atZone(PARIS).toInstant();
        final Map<String, Member> members = new HashMap<>();
        final Map<String, String> earned = new HashMap<>(); // entity -> a transaction of the clean day
    }

    static final Map<Databases.Backend, Setup> SETUPS = new EnumMap<>(Databases.Backend.class);

    static synchronized Setup setup(Databases.Backend backend) throws Exception {
        Setup s = SETUPS.get(backend);
        if (s != null) return s;
        s = new Setup();
        s.loyalty = new LoyaltyPeer(0, APP_ID, APP_TOKEN).program(CAMPAIGN, "Reconciled Program").start();
        Map<String, String> settings = new HashMap<>();
        settings.put("interchange.flows", "loyalty-webhook,billing-ledger");
        settings.put("interchange.loyalty.webhook-secret", SECRET);
        settings.put("interchange.loyalty.api-url", s.loyalty.url());
        settings.put("interchange.loyalty.app-id", APP_ID);
        settings.put("interchange.loyalty.app-token", APP_TOKEN);
        settings.put("interchange.loyalty.campaign-id", CAMPAIGN);
        settings.put("interchange.loyalty.api-max-rate", "200");
        settings.put("interchange.loyalty.filing-check", "PT1S");
        settings.put("interchange.loyalty.filing-grace", "PT0S");
        settings.put("interchange.reconciliation.daily", "false");
        // small pages everywhere, so that every read crosses several
        settings.put("interchange.reconciliation.loyalty-page-size", "3");
        settings.put("interchange.reconciliation.erp-page-size", "4");
        s.kit = RuntimeKit.start(backend, settings);
        s.kit.s4.setMaxPageSize(3);
        s.loyalty.sendWebhooks(URI.create("http://127.0.0.1:" + s.kit.httpPort + LoyaltyWebhook.PATH), SECRET,
                Duration.ofMillis(200));
        SETUPS.put(backend, s);
        return s;
    }

    @AfterAll
    static void stop() {
        for (Setup s : SETUPS.values()) {
            if (s.kit != null) s.kit.close();
            if (s.loyalty != null) s.loyalty.close();
        }
    }

    @ParameterizedTest
    @MethodSource("io.interchange.testkit.Databases#backends")
    @Order(1)
    void aCleanDayReportsNothingForARealTimeAndADailyFilingEntity(Databases.Backend backend) throws Exception {
        Setup s = setup(backend);
        Member anna = member(s, "DE01");
        Member bernd = member(s, "DE01");
        Member claire = member(s, "FR01");
        Member denis = member(s, "FR01");
        Member orphan = member(s, null); // no legal entity in the customer master: the edge parks it, a run cannot place it
        s.members.put("anna", anna);
        s.members.put("claire", claire);

        // the day's filing waits until every FR01 transaction of the day is recorded for it
        s.kit.runtime.camelContext().getRouteController().stopRoute(LoyaltyFilingRoute.JOB_ID);
        List<String> de = new ArrayList<>();
        de.add(earn(s, anna, 120));
        s.earned.put("DE01", de.get(0));
        String fr = earn(s, claire, 200);
        s.earned.put("FR01", fr);
        de.add(earn(s, bernd, 45));
        earn(s, denis, 80);
        de.add(redeem(s, anna, 30));
        redeem(s, claire, 50);
        de.add(expire(s, bernd, 5));
        expire(s, denis, 10);
        earn(s, orphan, 10);
        for (String tx : de) awaitPosted(s, tx);
        await().atMost(Duration.ofSeconds(30)).until(() -> s.kit.runtime.store().loyaltyFilings().unfiled("FR01") == 4);
        s.kit.runtime.camelContext().getRouteController().startRoute(LoyaltyFilingRoute.JOB_ID);
        String filing = LoyaltyFilings.filingId("FR01", DAY, 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> s.kit.runtime.store().confirmations()
                .find("ledger:" + filing).isPresent());
        int requestsBefore = s.loyalty.requestLog().size();

        Reconciliation.Summary de01 = run(s, "DE01");
        assertThat(de01.run().differences()).as(de01.text()).isZero();
        assertThat(de01.run().billingRecords()).as("the platform's DE01 transactions").isEqualTo(4);
        assertThat(de01.run().erpRecords()).as("DE01's real-time entries on S/4HANA").isEqualTo(4);
        assertThat(de01.run().matched()).isEqualTo(4);
        assertThat(de01.run().unreadableRecords()).as("the orphan's transaction, counted, never dropped").isEqualTo(1);
        assertThat(de01.run().detail()).contains("EUR liability: loyalty platform earned 165 points 1.65, "
                        + "expired -5 points -0.05, redeemed -30 points -0.30, net 130 points 1.30; "
                        + "ERP ledger earned 1.65, expired -0.05, redeemed -0.30, net 1.30")
                .contains("1 loyalty transaction(s) could not be valued");

        Reconciliation.Summary fr01 = run(s, "FR01");
        assertThat(fr01.run().differences()).as(fr01.text()).isZero();
        assertThat(fr01.run().billingRecords()).isEqualTo(4);
        assertThat(fr01.run().erpRecords()).as("four line pairs in the legacy ERP's one filing").isEqualTo(4);
        assertThat(fr01.run().matched()).isEqualTo(4);
        assertThat(fr01.run().detail()).contains("net 220 points 2.20; ERP ledger", "net 2.20");
        assertThat(s.kit.legacy.postings()).filteredOn(p -> ("posting:" + filing).equals(p.reference())).hasSize(1);

        // the program's list was read newest first in pages of three, each after the last id of the page before,
        // and each card's holder looked up once
        List<String> asked = s.loyalty.requestLog().subList(requestsBefore, s.loyalty.requestLog().size()).stream()
                .map(r -> r.path() + "?" + r.query()).toList();
        assertThat(asked).anySatisfy(q -> assertThat(q).startsWith("/v1/loyalties/" + CAMPAIGN + "/transactions?")
                .contains("limit=3", "order=-id", "starting_after_id=vtx_"));
        assertThat(asked.stream().filter(q -> q.startsWith("/v1/customers/")).count())
                .as("5 cards, each holder read once per run, 2 runs").isEqualTo(10);
    }

    @ParameterizedTest
    @MethodSource("io.interchange.testkit.Databases#backends")
    @Order(2)
    void eachInjectedDifferenceIsFoundWithItsRecordForARealTimeAndADailyFilingEntity(Databases.Backend backend)
            throws Exception {
        Setup s = setup(backend);
        Member anna = s.members.get("anna");
        Member claire = s.members.get("claire");
        assertThat(anna).as("the clean day ran first").isNotNull();

        // DE01, posted in real time: a transaction whose webhook never came
        String missing = silently(s, () -> earn(s, anna, 33));
        // the platform's transaction of 50 points announced as 70 (a webhook that said otherwise than the platform)
        String changed = silently(s, () -> earn(s, anna, 50));
        awaitPosted(s, forge(s, anna, changed, 70));
        // a posting of a transaction the platform does not have
        String forged = "vtx_forged" + FORGED.incrementAndGet();
        awaitPosted(s, forge(s, anna, forged, 25));
        // the clean day's transaction, posted in real time, filed again
        String twice = s.earned.get("DE01");
        publishFiling(s, "DE01", 1, List.of(published(s, twice)));

        // FR01, filed daily: the same four, the last three in a second filing of the day
        String missingFr = silently(s, () -> earn(s, claire, 33));
        String changedFr = silently(s, () -> earn(s, claire, 50));
        String forgedFr = "vtx_forged" + FORGED.incrementAndGet();
        String twiceFr = s.earned.get("FR01");
        publishFiling(s, "FR01", 2, List.of(published(s, twiceFr), transaction(claire, changedFr, 70),
                transaction(claire, forgedFr, 25)));

        for (String[] entity : new String[][]{{"DE01", missing, changed, forged, twice},
                {"FR01", missingFr, changedFr, forgedFr, twiceFr}}) {
            Reconciliation.Summary summary = run(s, entity[0]);
            ReconciliationRuns runs = s.kit.runtime.store().reconciliationRuns();
            List<Difference> found = runs.differences(summary.runId(), null, 0, 100);
            assertThat(found).as(summary.text()).hasSize(4);

            Difference notPosted = only(found, Kind.MISSING_IN_ERP);
            assertThat(notPosted.key()).isEqualTo("LOYALTY|" + entity[1]);
            assertThat(records(runs, summary, notPosted)).singleElement().satisfies(r -> {
                assertThat(r.side()).isEqualTo(ReconciliationRuns.LOYALTY);
                assertThat(r.recordId()).isEqualTo(entity[1]);
                assertThat(r.kind()).isEqualTo("EARNED");
                assertThat(r.amountMinor()).isEqualTo(33);
            });

            Difference amount = only(found, Kind.AMOUNT_DIFFERENCE);
            assertThat(amount.key()).isEqualTo("LOYALTY|" + entity[2]);
            assertThat(amount.billingAmountMinor()).as("the platform's").isEqualTo(50);
            assertThat(amount.erpAmountMinor()).as("the ledger's").isEqualTo(70);
            assertThat(records(runs, summary, amount)).extracting(ReconciliationRuns.Record::side)
                    .containsExactlyInAnyOrder(ReconciliationRuns.ERP, ReconciliationRuns.LOYALTY);

            Difference unknown = only(found, Kind.MISSING_IN_LOYALTY);
            assertThat(unknown.key()).isEqualTo("LOYALTY|" + entity[3]);
            assertThat(unknown.erpAmountMinor()).isEqualTo(25);
            assertThat(records(runs, summary, unknown)).singleElement().satisfies(r -> {
                assertThat(r.side()).isEqualTo(ReconciliationRuns.ERP);
                assertThat(r.erpDocument()).isNotBlank();
            });

            Difference duplicate = only(found, Kind.DUPLICATE);
            assertThat(duplicate.key()).isEqualTo("LOYALTY|" + entity[4]);
            assertThat(duplicate.side()).isEqualTo(ReconciliationRuns.ERP);
            assertThat(duplicate.erpCount()).isEqualTo(2);
            List<ReconciliationRuns.Record> copies = records(runs, summary, duplicate).stream()
                    .filter(r -> r.side().equals(ReconciliationRuns.ERP)).toList();
            assertThat(copies).hasSize(2);
            assertThat(copies).extracting(ReconciliationRuns.Record::erpDocument).doesNotHaveDuplicates();

            // the clean day's other transactions, in the same period, are matched, not reported
            assertThat(summary.run().matched()).as(summary.text()).isEqualTo(3);
            java.io.StringWriter html = new java.io.StringWriter();
            s.kit.runtime.reconciliation().html(summary.runId(), html);
            assertThat(html.toString()).contains("loyalty platform", "ERP ledger", "MISSING_IN_LOYALTY",
                    "in the ERP ledger, not on the loyalty platform", "on the loyalty platform, not in the ERP ledger",
                    "LOYALTY|" + entity[3], "EUR liability: ");
            assertThat(summary.differences()).containsEntry(Kind.MISSING_IN_ERP, 1L)
                    .containsEntry(Kind.MISSING_IN_LOYALTY, 1L).containsEntry(Kind.AMOUNT_DIFFERENCE, 1L)
                    .containsEntry(Kind.DUPLICATE, 1L);
        }
    }

    @org.junit.jupiter.api.Test
    @Order(3)
    void theDailyJobRunsTheLoyaltyComparisonForEachEntitysLastClosedDayOnce() throws Exception {
        Setup s = setup(Databases.Backend.H2);
        Reconciliation reconciliation = s.kit.runtime.reconciliation();
        assertThat(reconciliation.comparisons()).containsKey(LoyaltyErpComparison.NAME);
        assertThat(reconciliation.comparisons().get(LoyaltyErpComparison.NAME).unavailable()).isNull();

        List<Reconciliation.Summary> first = reconciliation.runClosedDays();
        List<Reconciliation.Summary> second = reconciliation.runClosedDays();

        // billing's comparison cannot run here (no billing API key); the loyalty comparison runs for every entity
        // whose last closed day has no completed run (DE01's and FR01's yesterday ran above)
        assertThat(first).isNotEmpty().allSatisfy(x -> {
            assertThat(x.run().comparison()).isEqualTo(LoyaltyErpComparison.NAME);
            assertThat(x.run().status()).isEqualTo(ReconciliationRuns.COMPLETED);
            assertThat(x.run().to()).isEqualTo(x.run().from().plusDays(1));
        });
        assertThat(first).extracting(x -> x.run().legalEntity()).contains("GB01", "US01");
        assertThat(second).as("a day with a completed run is not run again").isEmpty();
    }

    // ----------------------------------------------------------------------------------------------- helpers

    static Reconciliation.Summary run(Setup s, String entity) {
        Reconciliation.Summary summary = s.kit.runtime.reconciliation().run(LoyaltyErpComparison.NAME, entity, DAY,
                DAY.plusDays(1));
        assertThat(summary.run().status()).as(summary.text()).isEqualTo(ReconciliationRuns.COMPLETED);
        assertThat(summary.run().comparison()).isEqualTo("loyalty-erp");
        return summary;
    }

    /** A member of the program held by a new global customer of the entity (none: no legal entity recorded). */
    static Member member(Setup s, String entity) throws Exception {
        String globalId = s.kit.runtime.store().crossReferences().mint();
        if (entity != null) {
            assertThat(s.kit.runtime.store().customerFields().write(Optional.empty(), globalId, "legalEntity", entity,
                    "salesforce", Instant.now())).isTrue();
        }
        ObjectNode body = JSON.createObjectNode();
        body.putObject("customer").put("source_id", globalId);
        JsonNode card = call(s, "/v1/loyalties/" + CAMPAIGN + "/members", body);
        return new Member(globalId, card.path("code").asText(), entity);
    }

    /** The platform's clock at the day's next minute, so transactions are made in order through the day. */
    static void tick(Setup s) {
        s.loyalty.clock(Clock.fixed(s.next, ZoneOffset.UTC));
        s.next = s.next.plusSeconds(60);
    }

    static String earn(Setup s, Member m, long points) {
        tick(s);
        s.loyalty.addPoints(m.code(), points);
        return last(s, m);
    }

    static String expire(Setup s, Member m, long points) {
        tick(s);
        assertThat(s.loyalty.expire(m.code(), points)).isEqualTo(points);
        return last(s, m);
    }

    static String redeem(Setup s, Member m, long points) throws Exception {
        tick(s);
        ObjectNode body = JSON.createObjectNode();
        body.putObject("reward").put("id", "rew_" + points).put("points", points);
        call(s, "/v1/loyalties/members/" + m.code() + "/redemption", body);
        return last(s, m);
    }

    static String last(Setup s, Member m) {
        List<ObjectNode> made = s.loyalty.transactions(m.code());
        return made.get(made.size() - 1).path("id").asText();
    }

    interface Made {
        String make() throws Exception;
    }

    /** A transaction made while the platform's webhook is disabled: never announced. */
    static String silently(Setup s, Made made) throws Exception {
        s.loyalty.webhooksEnabled(false);
        try {
            return made.make();
        } finally {
            s.loyalty.webhooksEnabled(true);
        }
    }

    /** The project the platform's webhooks come from. */
    static String project(Setup s) throws Exception {
        return LoyaltyWebhookSender.read(s.loyalty.webhooks().deliveries().get(0).body()).path("project_id").asText();
    }

    /** Waits until the runtime confirmed the real-time posting of a transaction. */
    static void awaitPosted(Setup s, String transactionId) throws Exception {
        String key = "ledger:voucherify:" + project(s) + ":" + transactionId;
        await().atMost(Duration.ofSeconds(30)).until(() -> s.kit.runtime.store().confirmations().find(key).isPresent());
    }

    /**
     * A signed webhook of an accrual of {@code points} under {@code transactionId} for the member, on the day: the
     * platform's own format, with what the platform may not hold. Its transaction id.
     */
    static String forge(Setup s, Member m, String transactionId, long points) throws Exception {
        ObjectNode w = (ObjectNode) JSON.readTree(FIXTURE.toFile());
        long n = FORGED.incrementAndGet();
        w.put("id", "whs_" + n).put("project_id", project(s));
        ((ObjectNode) w.path("event")).put("id", "evvou_" + n);
        ObjectNode t = (ObjectNode) w.path("data").path("transaction");
        t.put("id", transactionId).put("created_at", s.next.toString()).put("type", "POINTS_ACCRUAL");
        ((ObjectNode) t.path("details").path("balance")).put("points", points);
        ((ObjectNode) w.path("data").path("voucher")).put("code", m.code());
        ((ObjectNode) w.path("data").path("holder")).put("source_id", m.globalId());
        byte[] body = JSON.writeValueAsBytes(w);
        HttpResponse<String> answer = s.kit.post(LoyaltyWebhook.PATH, body, Map.of("Content-Type", "application/json",
                VoucherifySignatureVerifier.HEADER, VoucherifySignatureVerifier.sign(body, SECRET)));
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(JSON.readTree(answer.body()).path("status").asText()).as(answer.body()).isEqualTo("accepted");
        return transactionId;
    }

    /** The canonical transaction the edge published for a transaction of the platform. */
    static LoyaltyTransaction published(Setup s, String transactionId) throws Exception {
        String id = "voucherify:" + project(s) + ":" + transactionId;
        byte[] value = s.kit.readTopic(LOYALTY_TOPIC, Duration.ofSeconds(1)).stream()
                .filter(r -> id.equals(RuntimeKit.header(r, "ce_id"))).findFirst().orElseThrow().value();
        return JSON.readValue(value, LoyaltyTransaction.class);
    }

    /** A canonical accrual of the member at 1 cent a point, on the day. */
    static LoyaltyTransaction transaction(Member m, String transactionId, long points) {
        return new LoyaltyTransaction(transactionId, "POINTS_ACCRUAL", "EARNED", new CustomerRef(m.globalId(), "loyalty",
                null), m.code(), CAMPAIGN, points, null, null, null, null, null, "EUR", "1", points,
                DAY.atTime(11, 0).atZone(PARIS).toInstant().toString(), DAY.toString());
    }

    /**
     * A filing of the entity's day holding these transactions, published on the loyalty topic as the daily filing
     * publishes one (a part published again, or by hand); waits until the ledger confirmed its posting.
     */
    static void publishFiling(Setup s, String entity, int part, List<LoyaltyTransaction> transactions) throws Exception {
        String filingId = LoyaltyFilings.filingId(entity, DAY, part);
        long net = transactions.stream().mapToLong(LoyaltyTransaction::amountMinor).sum();
        LoyaltyFiling filing = new LoyaltyFiling(filingId, entity, DAY.toString(), part, "EUR", net, transactions);
        CanonicalType type = CanonicalType.LOYALTY_FILING_CLOSED;
        byte[] body = JSON.writeValueAsBytes(filing);
        Exception failure = s.kit.runtime.camelContext().createProducerTemplate().send("kafka:" + LOYALTY_TOPIC, e -> {
            CloudEventHeaders.write(new Envelope(filingId, LoyaltyDailyFiling.SOURCE, type.ceType(), filingId,
                    Instant.now().toString(), type.dataSchema(), filingId, entity), e.getMessage());
            e.getMessage().setHeader(KafkaConstants.KEY, filingId);
            e.getMessage().setBody(body);
        }).getException();
        assertThat(failure).isNull();
        await().atMost(Duration.ofSeconds(30)).until(() -> s.kit.runtime.store().confirmations().find("ledger:" + filingId)
                .isPresent());
    }

    static JsonNode call(Setup s, String path, ObjectNode body) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(s.loyalty.url() + path))
                .header("X-App-Id", APP_ID).header("X-App-Token", APP_TOKEN).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    /**
     * The records of a difference's drill-down: its transaction's alone, not the other transactions of its ERP document
     * (for a filing, the day's others).
     */
    private static List<ReconciliationRuns.Record> records(ReconciliationRuns runs, Reconciliation.Summary summary,
                                                           Difference d) {
        List<ReconciliationRuns.Record> all = runs.records(summary.runId(), d);
        assertThat(all).as("records of %s", d.key()).allSatisfy(r -> assertThat(r.key()).isEqualTo(d.key()));
        return all;
    }

    private static Difference only(List<Difference> found, Kind kind) {
        List<Difference> of = found.stream().filter(d -> d.kind() == kind).toList();
        assertThat(of).as(kind.name()).hasSize(1);
        return of.get(0);
    }
}
