package io.interchange.ledger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.mapping.LegalEntity;
import io.interchange.mapping.LegalEntityTable;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingSource;
import io.interchange.model.CanonicalType;
import io.interchange.model.Envelope;
import io.interchange.model.LedgerPosting;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each ERP target's consumers pass the other's events by on the target {@link LedgerPostingService#route} finds from
 * the entity and the posting date, without the posting rules. It must be the target the posting gets: an event the
 * other consumers pass by on a wrong answer would be posted by no one. Checked on every canonical event of the posting
 * rules' fixtures, for an entity without a cut-over date (FR01), one with a cut-over in the past (DE01, 2024-01-01, in
 * Berlin) and one in the future (GB01), with documents dated on both sides of DE01's cut-over and events on both sides
 * of its midnight.
 */
class LedgerRoutingTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path FIXTURES = Path.of("mappings/ledger/posting-rules.fixtures");
    private static final List<String> DATES = List.of("2023-12-31", "2024-01-01", "2026-11-02");
    /** 2023-12-31 23:30 in UTC is 2024-01-01 00:30 in Berlin: the event's day there is after DE01's cut-over. */
    private static final List<String> TIMES = List.of("2023-12-31T22:30:00Z", "2023-12-31T23:30:00Z",
            "2026-11-02T10:00:00Z");

    private final LedgerPostingService service;

    LedgerRoutingTest() {
        MappingSource source = MappingSource.bundled();
        service = new LedgerPostingService(MappingEngine.load(source), LegalEntityTable.load(source), Map.of(), null,
                Set.of());
    }

    @Test
    void theTargetFoundWithoutThePostingRulesIsThePostingsOnEveryFixtureEntityAndDate() throws IOException {
        int routed = 0;
        int posted = 0;
        try (Stream<Path> files = Files.list(FIXTURES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".input.json")).sorted().toList()) {
                JsonNode input = JSON.readTree(file.toFile());
                String type = input.path("event").path("type").asText();
                if (CanonicalType.byCeType(type).isEmpty()) continue;
                for (String entity : List.of("FR01", "DE01", "GB01")) {
                    for (String date : DATES) {
                        for (String time : TIMES) {
                            ObjectNode data = input.path("data").deepCopy();
                            for (String field : List.of("issuedOn", "occurredOn", "filingDate")) {
                                if (data.has(field)) data.put(field, date);
                            }
                            Envelope e = new Envelope("evt_" + file.getFileName(), "/test", type, "cust-1", time,
                                    "urn:test", "corr-1", entity);
                            byte[] bytes = JSON.writeValueAsBytes(data);
                            LedgerPostingService.Routing routing = service.route(e, bytes);
                            String what = file.getFileName() + " " + entity + " dated " + date + " at " + time;
                            // the data read once for routing maps as the data read again does
                            Object outcome = outcome(() -> service.prepare(e, bytes, routing.canonical()));
                            assertThat(outcome).as(what).isEqualTo(outcome(() -> service.prepare(e, bytes)));
                            if (routing.target() == null) continue;
                            routed++;
                            if (!(outcome instanceof Optional<?> o) || o.isEmpty()) continue;
                            posted++;
                            assertThat(((LedgerPosting) o.get()).erpTarget()).as(what).isEqualTo(routing.target());
                        }
                    }
                }
            }
        }
        // every fixture with a posting date is routed: ledger events of 20 fixtures, 3 entities, 9 dates and times
        assertThat(routed).isGreaterThan(400);
        assertThat(posted).isGreaterThan(300);
    }

    @Test
    void documentsRouteByTheirDateOfIssueAndWhatHappensToThemLaterByTheEventsDayInTheEntitysZone() {
        assertThat(target("DE01", CanonicalType.INVOICE_FINALIZED, "issuedOn", "2023-12-31", "2024-02-01T10:00:00Z"))
                .isEqualTo(LegalEntity.LEGACY);
        assertThat(target("DE01", CanonicalType.INVOICE_FINALIZED, "issuedOn", "2024-01-01", "2023-12-31T10:00:00Z"))
                .isEqualTo(LegalEntity.S4HANA);
        // voided at 00:30 on 2024-01-01 in Berlin, issued in December: posted on the void's day, at S/4HANA
        assertThat(target("DE01", CanonicalType.INVOICE_VOIDED, "issuedOn", "2023-12-20", "2023-12-31T23:30:00Z"))
                .isEqualTo(LegalEntity.S4HANA);
        assertThat(target("DE01", CanonicalType.INVOICE_VOIDED, "issuedOn", "2023-12-20", "2023-12-31T22:30:00Z"))
                .isEqualTo(LegalEntity.LEGACY);
        // an entity without a cut-over date: the legacy ERP, without reading the event's data
        LedgerPostingService.Routing fr = service.route(envelope("FR01", CanonicalType.INVOICE_FINALIZED,
                "2026-11-02T10:00:00Z"), "not even JSON".getBytes(StandardCharsets.UTF_8));
        assertThat(fr.target()).isEqualTo(LegalEntity.LEGACY);
        assertThat(fr.canonical()).isNull();
    }

    @Test
    void whatCannotBeRoutedBeforeMappingIsLeftToMapping() {
        // an unknown entity, data that is not JSON, a document without a date: the mapping says why
        assertThat(service.route(envelope("XX99", CanonicalType.INVOICE_FINALIZED, "2026-11-02T10:00:00Z"),
                "{}".getBytes(StandardCharsets.UTF_8)).target()).isNull();
        assertThat(service.route(envelope("DE01", CanonicalType.INVOICE_FINALIZED, "2026-11-02T10:00:00Z"),
                "{\"number\":".getBytes(StandardCharsets.UTF_8)).target()).isNull();
        assertThat(service.route(envelope("DE01", CanonicalType.INVOICE_FINALIZED, "not a time"),
                "{\"number\":\"A-1\"}".getBytes(StandardCharsets.UTF_8)).target()).isNull();
        // a type without ledger effect
        assertThat(service.route(envelope("DE01", CanonicalType.CONSENT_CHANGED, "2026-11-02T10:00:00Z"),
                "{}".getBytes(StandardCharsets.UTF_8)).target()).isNull();
    }

    @Test
    void aLoyaltyTransactionFiledDailyIsRoutedToTheConsumersThatRecordItAndPostsNothingOfItsOwn() {
        LedgerPostingService daily = new LedgerPostingService(MappingEngine.load(MappingSource.bundled()),
                LegalEntityTable.load(MappingSource.bundled()), Map.of(), null, Set.of("DE01"));
        byte[] after = "{\"occurredOn\":\"2026-11-02\"}".getBytes(StandardCharsets.UTF_8);
        byte[] before = "{\"occurredOn\":\"2023-12-31\"}".getBytes(StandardCharsets.UTF_8);
        // by its date against DE01's cut-over (2024-01-01), as a posting would go
        assertThat(daily.route(envelope("DE01", CanonicalType.LOYALTY_TRANSACTION, "2026-11-02T10:00:00Z"), after)
                .target()).isEqualTo(LegalEntity.S4HANA);
        assertThat(daily.route(envelope("DE01", CanonicalType.LOYALTY_TRANSACTION, "2023-12-31T10:00:00Z"), before)
                .target()).isEqualTo(LegalEntity.LEGACY);
        assertThat(daily.prepare(envelope("DE01", CanonicalType.LOYALTY_TRANSACTION, "2026-11-02T10:00:00Z"), after))
                .as("posted in its day's filing, not on its own").isEmpty();
    }

    /** The posting prepared, or the failure's message. */
    private static Object outcome(java.util.function.Supplier<Optional<LedgerPosting>> prepare) {
        try {
            return prepare.get();
        } catch (RuntimeException e) {
            return "failed: " + e.getMessage();
        }
    }

    private String target(String entity, CanonicalType type, String field, String date, String time) {
        byte[] data = ("{\"" + field + "\":\"" + date + "\"}").getBytes(StandardCharsets.UTF_8);
        return service.route(envelope(entity, type, time), data).target();
    }

    private static Envelope envelope(String entity, CanonicalType type, String time) {
        return new Envelope("evt_1", "/test", type.ceType(), "cust-1", time, type.dataSchema(), "corr-1", entity);
    }
}
