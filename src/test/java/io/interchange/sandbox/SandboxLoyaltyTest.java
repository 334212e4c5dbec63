package io.interchange.sandbox;

import io.interchange.testkit.SandboxSettings;
import com.fasterxml.jackson.databind.JsonNode;
import io.interchange.config.Config;
import io.interchange.connectors.loyalty.LoyaltyWebhook;
import io.interchange.mapping.ErpReference;
import io.interchange.sandbox.loyalty.LoyaltyWebhookSender;
import io.interchange.store.DeadLetter;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code --sandbox}'s loyalty traffic, briefly: the customer sync's members earn (the simulator's stand-in for paid
 * invoices), redeem and lose points to expiry, the platform's signed webhooks reach the runtime (some twice), a member
 * climbs to Gold, and once the traffic stops every transaction at the platform is exactly one entry in the ERP of its
 * member's legal entity, the points at their value equal each entity's net credit to the points liability, nothing is
 * parked, and the summary shows the loyalty block.
 */
class SandboxLoyaltyTest {

    static final String LIABILITY = "21800000";
    /** Minor units per point as mappings/loyalty/point-values.csv has them (written out, not read from it). */
    static final Map<String, BigDecimal> POINT_VALUE = Map.of("DE01", BigDecimal.ONE, "FR01", BigDecimal.ONE,
            "GB01", new BigDecimal("0.8"), "US01", new BigDecimal("1.25"));
    /** Where each entity posts today (mappings/legal-entities.csv): S/4HANA company codes, legacy companies. */
    static final Map<String, String> S4 = Map.of("DE01", "1010", "US01", "1710");
    static final Map<String, String> LEGACY = Map.of("GB01", "GB-01", "FR01", "FR-01");
    /** Entities whose transactions are filed once a day (mappings/loyalty/point-values.csv). */
    static final Set<String> DAILY = Set.of("FR01");

    @Test
    void membersEarnRedeemAndExpireAndEachTransactionIsPostedOnceInItsEntitysLedger() throws Exception {
        SandboxSettings settings = SandboxSettings.forTest("interchange-sandbox-loyalty");
        Map<String, String> values = settings.values();
        ByteArrayOutputStream banner = new ByteArrayOutputStream();

        try (settings; Sandbox sandbox = Sandbox.start(Config.of(values), 2, Duration.ofMillis(500), 42L,
                new PrintStream(banner, true, StandardCharsets.UTF_8), null)) {
            assertThat(sandbox.loyaltyTraffic()).as("the sandbox runs the loyalty traffic by default").isNotNull();
            long started = System.nanoTime();
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1)).until(() ->
                    reachedGold(sandbox) && transactionTypes(sandbox).containsAll(Set.of("POINTS_ADDITION",
                            "POINTS_REDEMPTION", "POINTS_EXPIRATION"))
                            && sandbox.loyaltyTraffic().stats().redeliveries() > 0);
            long toGold = (System.nanoTime() - started) / 1_000_000_000L;
            sandbox.loyaltyTraffic().close();

            // the traffic stopped: the ledgers catch up with the platform, one entry per transaction
            String project = LoyaltyWebhookSender.read(sandbox.loyalty().webhooks().deliveries().get(0).body())
                    .path("project_id").asText();
            Map<String, String> entityOfCard = entityOfCard(sandbox);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                for (var e : entityOfCard.entrySet()) {
                    for (JsonNode tx : sandbox.loyalty().transactions(e.getKey())) {
                        assertThat(entries(sandbox, e.getValue(), "voucherify:" + project + ":" + tx.path("id").asText()))
                                .as("ERP entries of %s (%s) in %s", tx.path("id").asText(), tx.path("type").asText(),
                                        e.getValue()).isEqualTo(1);
                    }
                }
            });
            Map<String, Long> expectedMinor = new TreeMap<>();
            for (var e : entityOfCard.entrySet()) {
                for (JsonNode tx : sandbox.loyalty().transactions(e.getKey())) {
                    long points = tx.path("details").path("balance").path("points").asLong();
                    expectedMinor.merge(e.getValue(), POINT_VALUE.get(e.getValue()).multiply(BigDecimal.valueOf(points))
                            .setScale(0, RoundingMode.HALF_EVEN).longValueExact(), Long::sum);
                }
            }
            assertThat(expectedMinor).isNotEmpty();
            for (var e : expectedMinor.entrySet()) {
                assertThat(liabilityCredit(sandbox, e.getKey())).as("%s: net credit to the points liability", e.getKey())
                        .isEqualByComparingTo(BigDecimal.valueOf(e.getValue()).movePointLeft(2));
            }
            assertThat(sandbox.runtime().store().deadLetters().list(LoyaltyWebhook.EVENT_ROUTE_ID, DeadLetter.OPEN, 100))
                    .as("no loyalty event parked").isEmpty();
            // the only others the sandbox's traffic makes on purpose: the billing simulator's invoices of an unknown
            // entity (the consent traffic signs up only people the identity index knows by their e-mail)
            assertThat(sandbox.runtime().store().deadLetters().list(null, DeadLetter.OPEN, 1000)).as("dead letters")
                    .allSatisfy(d -> assertThat(d.headers().get("ce_legalentity")).as(d.errorMessage())
                            .isEqualTo(BillingSimulator.UNKNOWN_LEGAL_ENTITY));
            assertThat(sandbox.loyaltyTraffic().stats().failed()).isZero();

            String summary = sandbox.summary();
            System.out.println(summary + "\n    Gold reached after " + toGold + " s");
            assertThat(summary).contains("    loyalty: webhooks sent ").contains("tier changes ").contains("parked 0")
                    .contains("loyalty simulator: earned ");
            assertThat(summary.substring(summary.indexOf("    loyalty: ")).lines())
                    .allSatisfy(l -> assertThat(l.length()).as(l).isLessThanOrEqualTo(111));
            assertThat(banner.toString(StandardCharsets.UTF_8)).contains("loyalty webhooks  POST http://127.0.0.1:")
                    .contains("sandbox webhook secret ").contains("loyalty-webhook");
        }
    }

    /** Whether a member went up from Silver to Gold (the tier change the platform delivered). */
    private static boolean reachedGold(Sandbox sandbox) {
        return sandbox.loyalty().webhooks().deliveries().stream()
                .filter(d -> d.delivered() && d.type().equals("customer.loyalty.tier.upgraded")).anyMatch(d -> {
                    try {
                        return LoyaltyWebhookSender.read(d.body()).path("data").path("loyalty_tier_to").path("name")
                                .asText().equals("Gold");
                    } catch (IOException e) {
                        return false;
                    }
                });
    }

    private static Set<String> transactionTypes(Sandbox sandbox) {
        Set<String> types = new java.util.HashSet<>();
        for (var card : sandbox.loyalty().members()) {
            sandbox.loyalty().transactions(card.path("code").asText()).forEach(tx -> types.add(tx.path("type").asText()));
        }
        return types;
    }

    /** The legal entity (customer master) of each card's holder, for the cards that have transactions. */
    private static Map<String, String> entityOfCard(Sandbox sandbox) {
        Map<String, String> sourceIds = new HashMap<>();
        sandbox.loyalty().customers().forEach(c -> sourceIds.put(c.path("id").asText(), c.path("source_id").asText(null)));
        Map<String, String> out = new HashMap<>();
        for (var card : sandbox.loyalty().members()) {
            String code = card.path("code").asText();
            if (sandbox.loyalty().transactions(code).isEmpty()) continue;
            String globalId = sourceIds.get(card.path("holder_id").asText());
            String entity = sandbox.runtime().store().customerFields().find(globalId, LoyaltyWebhook.LEGAL_ENTITY_FIELD)
                    .orElseThrow(() -> new AssertionError("a member with transactions and no legal entity: " + code))
                    .value();
            out.put(code, entity);
        }
        return out;
    }

    /**
     * ERP entries of a transaction; of an entity filed daily (FR01 in mappings/loyalty/point-values.csv), whether it is
     * recorded for its day's filing (the day has not closed while the test runs).
     */
    private static long entries(Sandbox sandbox, String entity, String sourceEvent) {
        if (DAILY.contains(entity)) return sandbox.runtime().store().loyaltyFilings().isRecorded(sourceEvent) ? 1 : 0;
        if (S4.containsKey(entity)) {
            String reference = ErpReference.of(sourceEvent);
            return sandbox.s4().postings().stream().filter(p -> reference.equals(p.documentReferenceId())).count();
        }
        String reference = "posting:" + sourceEvent;
        return sandbox.legacy().postings().stream().filter(p -> reference.equals(p.reference())).count();
    }

    /**
     * Credits less debits on the points liability in the entity's ERP (billing never posts to it); of an entity filed
     * daily, what waits in the store for its day's filing.
     */
    private static BigDecimal liabilityCredit(Sandbox sandbox, String entity) {
        if (DAILY.contains(entity)) {
            return BigDecimal.valueOf(sandbox.runtime().store().loyaltyFilings().unfiledAmount(entity)).movePointLeft(2);
        }
        if (S4.containsKey(entity)) {
            return sandbox.s4().postings().stream().filter(p -> S4.get(entity).equals(p.companyCode()))
                    .flatMap(p -> p.lines().stream()).filter(l -> LIABILITY.equals(l.glAccount()))
                    .map(S4HanaPeer.Line::amount).reduce(BigDecimal.ZERO, BigDecimal::add).negate();
        }
        BigDecimal sum = BigDecimal.ZERO;
        for (LegacyErpPeer.Posting p : sandbox.legacy().postings()) {
            if (!LEGACY.get(entity).equals(p.company())) continue;
            for (LegacyErpPeer.Line l : p.lines()) {
                if (LIABILITY.equals(l.account())) sum = "C".equals(l.side()) ? sum.add(l.amount()) : sum.subtract(l.amount());
            }
        }
        return sum;
    }
}
