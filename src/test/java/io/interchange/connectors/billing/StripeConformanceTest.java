package io.interchange.connectors.billing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.connectors.http.WebhookRejection;
import io.interchange.ledger.LedgerPostingService;
import io.interchange.mapping.LegalEntityTable;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingSource;
import io.interchange.model.Invoice;
import io.interchange.model.LedgerLine;
import io.interchange.model.LedgerPosting;
import io.interchange.store.Store;
import io.interchange.testkit.Databases;
import io.interchange.testkit.StripeFixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every Stripe event of {@code src/test/resources/stripe/<family>/} (shapes from Stripe's published types and
 * fixtures, one family per supported API version; see SOURCES.md there) through the billing edge's translation and
 * the ledger's posting rules: each is published, acknowledged without effect, or parked, as
 * {@code expectations.csv} says, never refused; each published invoice's posting is balanced and its receivable is
 * Stripe's own total. Also fails when a supported API version has no fixtures.
 */
class StripeConformanceTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final MappingSource SOURCE = MappingSource.directory(Path.of("mappings"));
    static final MappingEngine ENGINE = MappingEngine.load(SOURCE);

    static Store store;

    @BeforeAll
    static void open() {
        store = Store.open(Databases.config(Databases.Backend.H2));
    }

    @AfterAll
    static void close() {
        if (store != null) store.close();
    }

    @Test
    void everySupportedApiVersionHasFixturesOfTheEventsThatPostMoney() throws IOException {
        String versions = Files.readString(Path.of("mappings/stripe/api-versions.csv"));
        for (String family : StripeFixtures.FAMILIES) {
            assertThat(versions).as("api-versions.csv names %s", family).contains(family.contains("-") ? family : "*." + family);
            for (String required : List.of("invoice-finalized-basic", "invoice-finalized-inclusive-tax", "invoice-paid",
                    "invoice-voided", "refund-created", "invoice-updated")) {
                assertThat(StripeFixtures.CORPUS.resolve(family).resolve(required + ".json")).as("fixture of %s", family).exists();
            }
        }
        // and no fixture family without a version the runtime reads
        try (Stream<Path> dirs = Files.list(StripeFixtures.CORPUS)) {
            assertThat(dirs.filter(Files::isDirectory).map(p -> p.getFileName().toString()).toList())
                    .containsExactlyInAnyOrderElementsOf(StripeFixtures.FAMILIES);
        }
    }

    @Test
    void everyFixtureIsPublishedIgnoredOrParkedAsExpectedAndNoneIsRefused() throws IOException {
        BillingEventTranslator translator = new BillingEventTranslator(ENGINE, SOURCE, store.billingReferences(),
                BillingEventTranslator.Livemode.ANY, "", null);
        LedgerPostingService ledger = new LedgerPostingService(ENGINE, LegalEntityTable.load(SOURCE), Map.of(),
                store.confirmations());
        List<String> violations = new ArrayList<>();
        Map<String, Integer> outcomes = new LinkedHashMap<>();
        int files = 0;
        for (String family : StripeFixtures.FAMILIES) {
            for (Path file : StripeFixtures.events(family)) {
                files++;
                String name = StripeFixtures.name(file);
                StripeFixtures.Expectation expected = StripeFixtures.expectation(family, file);
                if (expected == null) {
                    violations.add(family + "/" + name + ": no line in expectations.csv");
                    continue;
                }
                byte[] body = Files.readAllBytes(file);
                String outcome;
                String detail = "";
                try {
                    JsonNode event = translator.parse(body);
                    if (translator.ignored(event)) {
                        outcome = "ignored";
                    } else {
                        var t = translator.translate(event, "conformance");
                        outcome = "published";
                        detail = checkPosting(ledger, t, event, family + "/" + name, violations);
                    }
                } catch (ParkedEvent e) {
                    outcome = "parked";
                    detail = e.getMessage();
                } catch (WebhookRejection e) {
                    outcome = "refused " + e.status();
                    detail = e.getMessage();
                }
                outcomes.merge(outcome, 1, Integer::sum);
                if (!outcome.equals(expected.outcome())) {
                    violations.add(family + "/" + name + ": " + outcome + ", expected " + expected.outcome() + " " + detail);
                } else if (!expected.reason().isEmpty() && !detail.contains(expected.reason())) {
                    violations.add(family + "/" + name + ": " + outcome + " without '" + expected.reason() + "': " + detail);
                }
            }
        }
        System.out.printf("Stripe conformance: %d events of %d API version families: %s; %d violation(s)%n", files,
                StripeFixtures.FAMILIES.size(), outcomes, violations.size());
        assertThat(violations).as(String.join("\n", violations)).isEmpty();
    }

    /** The posting of a published event: balanced; an invoice's receivable equals Stripe's total. */
    private static String checkPosting(LedgerPostingService ledger, BillingEventTranslator.Translated t, JsonNode event,
                                       String name, List<String> violations) {
        Optional<LedgerPosting> posting;
        try {
            posting = ledger.prepare(t.envelope(), t.json());
        } catch (RuntimeException e) {
            violations.add(name + ": no posting: " + e.getMessage());
            return "";
        }
        if (posting.isEmpty()) return "no ledger effect";
        LedgerPosting p = posting.get();
        if (p.imbalanceMinor() != 0) violations.add(name + ": posting not balanced by " + p.imbalanceMinor());
        if (t.canonical() instanceof Invoice inv && event.path("type").asText().equals("invoice.finalized")) {
            long stripeTotal = event.path("data").path("object").path("total").asLong();
            long receivable = p.lines().stream().filter(l -> l.account().equals("12600000"))
                    .mapToLong(l -> LedgerLine.DEBIT.equals(l.side()) ? l.amountMinor() : -l.amountMinor()).sum();
            if (receivable != stripeTotal) {
                violations.add(name + ": receivable " + receivable + " is not Stripe's total " + stripeTotal);
            }
            long tax = p.lines().stream().filter(LedgerLine::tax).mapToLong(LedgerLine::amountMinor).sum();
            // total_excluding_tax excludes exclusive and inclusive tax alike
            long stripeTax = event.path("data").path("object").path("total").asLong()
                    - event.path("data").path("object").path("total_excluding_tax").asLong(inv.totalMinor());
            if (!event.path("data").path("object").path("total_excluding_tax").isNull() && Math.abs(tax) != Math.abs(stripeTax)) {
                violations.add(name + ": output tax " + tax + " is not Stripe's " + stripeTax);
            }
        }
        return p.kind() + " " + p.lines().size() + " lines";
    }

    /** 2026-12-31 23:30 UTC: already 2027 in Berlin, still the afternoon of New Year's Eve in Los Angeles. */
    static final long NEW_YEARS_EVE_2330_UTC = 1_798_759_800L;

    /** A document is dated by its legal entity's calendar (legal-entities.csv time_zone), not by UTC's. */
    @Test
    void anInvoiceFinalizedLateOnNewYearsEveBelongsToTheYearOfItsEntitysCalendar() throws Exception {
        BillingEventTranslator translator = new BillingEventTranslator(ENGINE, SOURCE, store.billingReferences(),
                BillingEventTranslator.Livemode.ANY, "", null);
        assertThat(issuedOn(translator, "DE01", "evt_calendar_de01")).isEqualTo("2027-01-01");
        assertThat(issuedOn(translator, "US01", "evt_calendar_us01")).isEqualTo("2026-12-31");
        assertThat(issuedOn(translator, "ZZ99", "evt_calendar_zz99")).as("an entity not in the table: UTC").isEqualTo("2026-12-31");
    }

    private static String issuedOn(BillingEventTranslator translator, String entity, String eventId) throws Exception {
        com.fasterxml.jackson.databind.node.ObjectNode event = (com.fasterxml.jackson.databind.node.ObjectNode)
                JSON.readTree(StripeFixtures.CORPUS.resolve("2024-06-20/invoice-finalized-basic.json").toFile());
        event.put("id", eventId);
        com.fasterxml.jackson.databind.node.ObjectNode invoice =
                (com.fasterxml.jackson.databind.node.ObjectNode) event.path("data").path("object");
        invoice.put("id", "in_" + eventId);
        ((com.fasterxml.jackson.databind.node.ObjectNode) invoice.path("metadata")).put("legal_entity", entity);
        ((com.fasterxml.jackson.databind.node.ObjectNode) invoice.path("status_transitions"))
                .put("finalized_at", NEW_YEARS_EVE_2330_UTC);
        invoice.put("effective_at", NEW_YEARS_EVE_2330_UTC);
        var t = translator.translate(translator.parse(JSON.writeValueAsBytes(event)), "calendar");
        return ((Invoice) t.canonical()).issuedOn();
    }
}
