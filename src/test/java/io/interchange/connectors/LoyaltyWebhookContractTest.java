package io.interchange.connectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.connectors.loyalty.LoyaltyWebhook;
import io.interchange.connectors.loyalty.VoucherifySignatureVerifier;
import io.interchange.management.DeadLetterOperations;
import io.interchange.mapping.ErpReference;
import io.interchange.model.LoyaltyTierChange;
import io.interchange.model.LoyaltyTransaction;
import io.interchange.sandbox.LegacyErpPeer;
import io.interchange.sandbox.S4HanaPeer;
import io.interchange.store.DeadLetter;
import io.interchange.testkit.Databases;
import io.interchange.testkit.RuntimeKit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The loyalty platform's webhooks (POST /webhooks/loyalty, Voucherify's x-voucherify-signature) under the inbound
 * connector contract, and what is the loyalty platform's own: deliveries of Voucherify's documented shapes (the
 * fixtures of {@code mappings/loyalty/}), a signature over the compact JSON whatever whitespace the delivery carries,
 * one event per transaction however often and by however many webhooks it is sent, points valued in the holder's legal
 * entity, and those transactions posted to that entity's ERP as the points liability, exactly once each.
 */
class LoyaltyWebhookContractTest extends InboundWebhookContract {

    static final String SECRET = "voucherify-webhook-secret-" + UUID.randomUUID();
    static final String TOPIC = "interchange.loyalty.v1";
    static final String PROJECT = "proj_contract";
    static final Path TRANSACTIONS = Path.of("mappings/loyalty/transaction.fixtures");
    static final Path TIERS = Path.of("mappings/loyalty/tier-change.fixtures");
    static final AtomicLong IDS = new AtomicLong(System.currentTimeMillis());
    static RuntimeKit kit;

    @BeforeAll
    static void start() throws Exception {
        kit = RuntimeKit.start(Databases.Backend.H2, Map.of("interchange.flows", "loyalty-webhook,billing-ledger",
                "interchange.loyalty.webhook-secret", SECRET));
    }

    @AfterAll
    static void stop() {
        if (kit != null) kit.close();
    }

    @Override
    protected RuntimeKit kit() {
        return kit;
    }

    @Override
    protected String path() {
        return "/webhooks/loyalty";
    }

    @Override
    protected String flow() {
        return "loyalty-webhook";
    }

    @Override
    protected String routeId() {
        return LoyaltyWebhook.ROUTE_ID;
    }

    @Override
    protected List<String> settings() {
        return List.of("interchange.loyalty.webhook-secret", "interchange.loyalty.topic",
                "interchange.loyalty.default-legal-entity");
    }

    @Override
    protected List<String> mappings() {
        return List.of("loyalty/transaction", "loyalty/tier-change");
    }

    @Override
    protected int signatureRefusal() {
        return 401;
    }

    @Override
    protected boolean signaturesCarryTime() {
        return false; // Voucherify signs the body alone: a replay is the idempotency key's to absorb
    }

    @Override
    protected String malformedReason() {
        return "malformed JSON";
    }

    @Override
    protected byte[] genuineBody() throws Exception {
        return JSON.writeValueAsBytes(transaction("accrual-order-paid", customer("DE01")));
    }

    @Override
    protected List<String> keys(byte[] body) throws Exception {
        JsonNode w = JSON.readTree(body);
        return List.of("loyalty:voucherify:" + w.path("project_id").asText() + ":"
                + w.path("data").path("transaction").path("id").asText());
    }

    @Override
    protected Map<String, String> signed(byte[] body, Instant at, String secret) {
        return Map.of("Content-Type", "application/json",
                VoucherifySignatureVerifier.HEADER, VoucherifySignatureVerifier.sign(body, secret));
    }

    @Override
    protected String secret() {
        return SECRET;
    }

    // ------------------------------------------------------------------------------------- helpers

    /** A new global customer whose customer master names this legal entity. */
    static String customer(String legalEntity) {
        String globalId = kit.runtime.store().crossReferences().mint();
        if (legalEntity != null) {
            assertThat(kit.runtime.store().customerFields().write(Optional.empty(), globalId, "legalEntity", legalEntity,
                    "salesforce", Instant.now())).isTrue();
        }
        return globalId;
    }

    /**
     * A fixture's delivery with a new transaction (id, webhook id, event id, made now: a posting's date decides its
     * ERP), held by this customer.
     */
    static ObjectNode transaction(String fixture, String globalId) throws Exception {
        ObjectNode w = (ObjectNode) JSON.readTree(TRANSACTIONS.resolve(fixture + ".input.json").toFile());
        long n = IDS.incrementAndGet();
        w.put("id", "whs_" + n).put("project_id", PROJECT);
        ((ObjectNode) w.path("event")).put("id", "evvou_" + n).put("entity_id", "vtx_" + n);
        ((ObjectNode) w.path("data").path("transaction")).put("id", "vtx_" + n).put("created_at", Instant.now().toString());
        ((ObjectNode) w.path("data").path("holder")).put("source_id", globalId);
        return w;
    }

    static String transactionId(JsonNode webhook) {
        return webhook.path("data").path("transaction").path("id").asText();
    }

    static long points(JsonNode webhook) {
        return webhook.path("data").path("transaction").path("details").path("balance").path("points").asLong();
    }

    private HttpResponse<String> send(JsonNode webhook) throws Exception {
        byte[] body = JSON.writeValueAsBytes(webhook);
        return post(body, signed(body, Instant.now(), SECRET));
    }

    private static String status(HttpResponse<String> answer) throws Exception {
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        return JSON.readTree(answer.body()).path("status").asText();
    }

    private List<ConsumerRecord<String, byte[]>> records(String ceId) {
        return kit.readTopic(TOPIC, Duration.ofSeconds(2)).stream()
                .filter(r -> ceId.equals(RuntimeKit.header(r, "ce_id"))).toList();
    }

    private static String ceId(String id) {
        return "voucherify:" + PROJECT + ":" + id;
    }

    private DeadLetterOperations operations() {
        return new DeadLetterOperations(kit.runtime.camelContext(), kit.runtime.store().deadLetters(),
                kit.runtime.store().audit());
    }

    // ------------------------------------------------------------------------------------- the platform's own

    @Test
    void aPrettyPrintedDeliveryIsVerifiedOnItsCompactForm() throws Exception {
        ObjectNode webhook = transaction("accrual-order-paid", customer("DE01"));
        byte[] pretty = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(webhook);
        // Voucherify signs the JSON without whitespace outside strings
        String signature = VoucherifySignatureVerifier.sign(JSON.writeValueAsBytes(webhook), SECRET);
        HttpResponse<String> answer = post(pretty, Map.of("Content-Type", "application/json",
                VoucherifySignatureVerifier.HEADER, signature));
        assertThat(status(answer)).isEqualTo("accepted");
    }

    @Test
    void everyDocumentedTransactionIsPublishedOnceValuedInItsHoldersLegalEntity() throws Exception {
        String globalId = customer("US01"); // 1.25 cents a point
        for (String fixture : List.of("accrual-order-paid", "redemption", "refund-of-redemption", "expiration",
                "removal", "addition-with-source-id", "transfer-out")) {
            ObjectNode webhook = transaction(fixture, globalId);
            HttpResponse<String> answer = send(webhook);
            assertThat(status(answer)).as(fixture).isEqualTo("accepted");
            List<ConsumerRecord<String, byte[]>> records = records(ceId(transactionId(webhook)));
            assertThat(records).as(fixture).hasSize(1);
            ConsumerRecord<String, byte[]> r = records.get(0);
            LoyaltyTransaction t = JSON.readValue(r.value(), LoyaltyTransaction.class);
            JsonNode expected = JSON.readTree(TRANSACTIONS.resolve(fixture + ".expected.json").toFile());
            assertThat(t.type()).isEqualTo(expected.path("type").asText());
            assertThat(t.movement()).isEqualTo(expected.path("movement").asText());
            assertThat(t.points()).isEqualTo(points(webhook));
            assertThat(t.currency()).isEqualTo("USD");
            assertThat(t.amountMinor()).as(fixture).isEqualTo(new BigDecimal("1.25")
                    .multiply(BigDecimal.valueOf(points(webhook))).setScale(0, java.math.RoundingMode.HALF_EVEN)
                    .longValueExact());
            assertThat(t.customer().globalId()).isEqualTo(globalId);
            assertThat(t.occurredOn()).as("the date in America/Los_Angeles").isNotNull();
            assertThat(r.key()).isEqualTo(globalId);
            assertThat(RuntimeKit.header(r, "ce_legalentity")).isEqualTo("US01");
            assertThat(RuntimeKit.header(r, "ce_type")).isEqualTo("io.interchange.loyalty.transaction.created");
            assertThat(RuntimeKit.header(r, "ce_source")).isEqualTo("/loyalty/voucherify");
        }
    }

    @Test
    void theSameTransactionSentTwiceOrByTwoWebhooksIsOneEvent() throws Exception {
        ObjectNode webhook = transaction("accrual-order-paid", customer("DE01"));
        assertThat(status(send(webhook))).isEqualTo("accepted");
        assertThat(status(send(webhook))).as("Voucherify's retry").isEqualTo("duplicate");
        ObjectNode other = webhook.deepCopy();
        other.put("id", "whs_other_" + IDS.incrementAndGet());
        ((ObjectNode) other.path("source")).put("id", "wh_second_webhook");
        assertThat(status(send(other))).as("a second webhook of the project").isEqualTo("duplicate");
        assertThat(records(ceId(transactionId(webhook)))).hasSize(1);
    }

    @Test
    void earnedAndRedeemedPointsPostOneLiabilityEntryEachInTheirEntitysErpAndTotalsMatch() throws Exception {
        String german = customer("DE01");   // S/4HANA, 1 cent a point, redemptions against discounts
        String british = customer("GB01");  // legacy ERP, 0.8 pence a point, redemptions against revenue
        List<ObjectNode> sent = List.of(transaction("accrual-order-paid", german), transaction("redemption", german),
                transaction("accrual-order-paid", british), transaction("redemption", british),
                transaction("expiration", british));
        for (ObjectNode w : sent) {
            assertThat(status(send(w))).isEqualTo("accepted");
            assertThat(status(send(w))).isEqualTo("duplicate");
        }
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(s4For(sent.get(0))).as("S/4HANA entries of the German accrual").hasSize(1);
            assertThat(s4For(sent.get(1))).as("S/4HANA entries of the German redemption").hasSize(1);
            for (ObjectNode w : sent.subList(2, 5)) {
                assertThat(legacyFor(w)).as("legacy entries of %s (dead letters: %s)", transactionId(w),
                        operations().list("billing.ledger-posting", 10)).hasSize(1);
            }
        });

        // the accrual: points expense against the liability, at the entity's point value
        S4HanaPeer.Posting accrual = s4For(sent.get(0)).get(0);
        assertThat(accrual.companyCode()).isEqualTo("1010");
        assertThat(accrual.currency()).isEqualTo("EUR");
        assertThat(signedAmount(accrual, "21800000")).as("liability credited").isEqualByComparingTo("-0.10");
        assertThat(signedAmount(accrual, "61500000")).as("expense debited").isEqualByComparingTo("0.10");
        S4HanaPeer.Posting redemption = s4For(sent.get(1)).get(0);
        assertThat(signedAmount(redemption, "21800000")).as("liability debited").isEqualByComparingTo("10.00");
        assertThat(signedAmount(redemption, "44000000")).as("discounts credited").isEqualByComparingTo("-10.00");

        // per entity, what the ledger moved on the liability equals the platform's points at their value
        BigDecimal germanLiability = signedAmount(accrual, "21800000").add(signedAmount(redemption, "21800000"));
        long germanPoints = points(sent.get(0)) + points(sent.get(1));
        assertThat(germanLiability.negate()).isEqualByComparingTo(BigDecimal.valueOf(germanPoints).movePointLeft(2));
        long britishMinor = 0;
        BigDecimal britishLiability = BigDecimal.ZERO;
        for (ObjectNode w : sent.subList(2, 5)) {
            britishMinor += new BigDecimal("0.8").multiply(BigDecimal.valueOf(points(w)))
                    .setScale(0, java.math.RoundingMode.HALF_EVEN).longValueExact();
            LegacyErpPeer.Posting p = legacyFor(w).get(0);
            assertThat(p.company()).isEqualTo("GB-01");
            for (LegacyErpPeer.Line l : p.lines()) {
                if (l.account().equals("21800000")) {
                    britishLiability = britishLiability.add("C".equals(l.side()) ? l.amount() : l.amount().negate());
                }
            }
        }
        assertThat(britishLiability).isEqualByComparingTo(BigDecimal.valueOf(britishMinor).movePointLeft(2));

        // a replay of everything the edge published posts nothing twice
        assertThat(operations().countByRoute("billing.ledger-posting")).as("no dead letters").isZero();
        for (ObjectNode w : sent) assertThat(status(send(w))).isEqualTo("duplicate");
        Thread.sleep(1000);
        assertThat(s4For(sent.get(0))).hasSize(1);
        assertThat(legacyFor(sent.get(4))).hasSize(1);
    }

    private static List<S4HanaPeer.Posting> s4For(JsonNode webhook) {
        String reference = ErpReference.of(ceId(transactionId(webhook)));
        return kit.s4.postings().stream().filter(p -> reference.equals(p.documentReferenceId())).toList();
    }

    private static List<LegacyErpPeer.Posting> legacyFor(JsonNode webhook) {
        // the legacy ERP takes the posting id as its reference
        String reference = "posting:" + ceId(transactionId(webhook));
        return kit.legacy.postings().stream().filter(p -> reference.equals(p.reference())).toList();
    }

    /** The posting's amount on an account, debits positive (SAP signs credits negative). */
    private static BigDecimal signedAmount(S4HanaPeer.Posting p, String account) {
        return p.lines().stream().filter(l -> account.equals(l.glAccount())).map(S4HanaPeer.Line::amount)
                .reduce(BigDecimal.ZERO, BigDecimal::add);
    }

    @Test
    void aTransactionOfACustomerWithoutALegalEntityIsParkedThenPostedOnceReplayed() throws Exception {
        String globalId = customer(null);
        ObjectNode webhook = transaction("accrual-order-paid", globalId);
        HttpResponse<String> answer = send(webhook);
        assertThat(status(answer)).isEqualTo("parked");
        JsonNode parked = JSON.readTree(answer.body());
        assertThat(parked.path("reason").asText()).contains(globalId).contains("no legal entity");
        assertThat(status(send(webhook))).as("Voucherify's retry finds the same dead letter").isEqualTo("parked");
        assertThat(kit.runtime.store().deadLetters().list(LoyaltyWebhook.EVENT_ROUTE_ID, DeadLetter.OPEN, 100).stream()
                .filter(d -> d.id() == parked.path("deadLetter").asLong())).hasSize(1);
        assertThat(records(ceId(transactionId(webhook)))).isEmpty();

        // the CRM sets the customer's entity; the operator replays
        kit.runtime.store().customerFields().write(Optional.empty(), globalId, "legalEntity", "DE01", "salesforce",
                Instant.now());
        assertThat(operations().replay(parked.path("deadLetter").asLong())).startsWith("replayed");
        assertThat(records(ceId(transactionId(webhook)))).hasSize(1);
        await().atMost(Duration.ofSeconds(30)).until(() -> s4For(webhook).size() == 1);
        assertThat(status(send(webhook))).isEqualTo("duplicate");
    }

    @Test
    void aMalformedLoyaltyPayloadIsADeadLetterWithAReason() throws Exception {
        ObjectNode noTransaction = transaction("accrual-order-paid", customer("DE01"));
        ((ObjectNode) noTransaction.path("data")).remove("transaction");
        HttpResponse<String> answer = send(noTransaction);
        assertThat(status(answer)).isEqualTo("parked");
        assertThat(JSON.readTree(answer.body()).path("reason").asText()).contains("data.transaction");

        ObjectNode unknownType = transaction("accrual-order-paid", customer("DE01"));
        ((ObjectNode) unknownType.path("data").path("transaction")).put("type", "POINTS_MINTED");
        HttpResponse<String> unknown = send(unknownType);
        assertThat(status(unknown)).isEqualTo("parked");
        JsonNode parked = JSON.readTree(unknown.body());
        assertThat(parked.path("reason").asText()).contains("POINTS_MINTED");
        DeadLetter kept = kit.runtime.store().deadLetters().list(LoyaltyWebhook.EVENT_ROUTE_ID, DeadLetter.OPEN, 100)
                .stream().filter(d -> d.id() == parked.path("deadLetter").asLong()).findFirst().orElseThrow();
        assertThat(JSON.readTree(kept.payload())).as("the delivery as it came").isEqualTo(unknownType);
        assertThat(operations().replay(kept.id())).contains("failed again").contains("POINTS_MINTED");
        assertThat(records(ceId(transactionId(unknownType)))).isEmpty();
    }

    @Test
    void tierChangesArePublishedAndNeverPosted() throws Exception {
        String globalId = customer("DE01");
        ObjectNode webhook = (ObjectNode) JSON.readTree(TIERS.resolve("upgraded.input.json").toFile());
        String eventId = "evcus_" + IDS.incrementAndGet();
        webhook.put("project_id", PROJECT);
        ((ObjectNode) webhook.path("event")).put("id", eventId);
        ((ObjectNode) webhook.path("data").path("customer")).put("source_id", globalId);
        assertThat(status(send(webhook))).isEqualTo("accepted");
        assertThat(status(send(webhook))).isEqualTo("duplicate");
        List<ConsumerRecord<String, byte[]>> records = records(ceId(eventId));
        assertThat(records).hasSize(1);
        LoyaltyTierChange change = JSON.readValue(records.get(0).value(), LoyaltyTierChange.class);
        assertThat(change.change()).isEqualTo("upgraded");
        assertThat(change.tierTo().name()).isEqualTo("Loyal gold");
        assertThat(change.customer().globalId()).isEqualTo(globalId);
        assertThat(RuntimeKit.header(records.get(0), "ce_type")).isEqualTo("io.interchange.loyalty.tier.changed");
        Thread.sleep(1000);
        assertThat(operations().countByRoute("billing.ledger-posting")).as("the ledger takes it for no posting").isZero();
    }

    @Test
    void eventTypesWithoutEffectAreAcknowledgedAndCounted() throws Exception {
        ObjectNode webhook = transaction("accrual-order-paid", customer("DE01"));
        ((ObjectNode) webhook.path("event")).put("type", "voucher.loyalty_card.points_added");
        HttpResponse<String> answer = send(webhook);
        assertThat(status(answer)).isEqualTo("ignored");
        ObjectNode other = transaction("accrual-order-paid", customer("DE01"));
        ((ObjectNode) other.path("event")).put("type", "campaign.updated");
        HttpResponse<String> unlisted = send(other);
        assertThat(status(unlisted)).isEqualTo("ignored");
        assertThat(JSON.readTree(unlisted.body()).path("reason").asText()).contains("mappings/loyalty/events.csv");
        assertThat(kit.get("/observe/metrics").body()).containsPattern("interchange_loyalty_events_acknowledged_total"
                + "\\{[^}]*outcome=\"ignored\"[^}]*type=\"campaign.updated\"");
    }
}
