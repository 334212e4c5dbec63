package io.interchange.customer;

import io.interchange.customer.FieldOwnership.Change;
import io.interchange.customer.FieldOwnership.Outcome;
import io.interchange.customer.FieldOwnership.Verdict;
import io.interchange.mapping.MappingSource;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.store.AuditTrail;
import io.interchange.store.CustomerFields;
import io.interchange.store.Store;
import io.interchange.testkit.Databases.Backend;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The system of record per field ({@code mappings/customer/ownership.csv}) on both store backends. */
class FieldOwnershipTest {

    private static final Instant T0 = Instant.parse("2026-12-01T09:00:00Z");
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final CustomerStoreFixture STORES = new CustomerStoreFixture();

    @AfterAll
    static void closeStores() {
        STORES.close();
    }

    private record Setup(Store store, FieldOwnership ownership, PrometheusMeterRegistry meters, String customer) {
    }

    private static Setup setup(Backend backend) {
        Store store = STORES.fresh(backend);
        PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        FieldOwnership ownership = new FieldOwnership(FieldOwnership.load(MappingSource.directory(Path.of("mappings"))),
                store.customerFields(), store.audit(), meters);
        return new Setup(store, ownership, meters, store.crossReferences().mint());
    }

    private static Change change(Setup s, String system, String field, String value, Instant at) {
        return new Change(s.customer(), system, field, value, at, "cid-" + system + "-" + at.getEpochSecond());
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void aHubSpotChangeToASalesforceOwnedFieldIsRefusedCountedAndAudited(Backend backend) {
        Setup s = setup(backend);
        assertThat(s.ownership().apply(change(s, "salesforce", "email", "anna.schmidt@example.com", T0)).outcome())
                .isEqualTo(Outcome.APPLIED);

        Verdict v = s.ownership().apply(change(s, "hubspot", "email", "anna@private.example", T0.plusSeconds(60)));

        assertThat(v.outcome()).isEqualTo(Outcome.REFUSED);
        assertThat(v.reason()).isEqualTo("email is owned by salesforce (owner-wins), not hubspot");
        assertThat(s.store().customerFields().find(s.customer(), "email").orElseThrow().value())
                .isEqualTo("anna.schmidt@example.com");
        assertThat(s.meters().scrape()).contains(
                "interchange_customer_changes_refused_total{field=\"email\",system=\"hubspot\"} 1.0");
        AuditTrail.Entry refused = s.store().audit().recent(10).get(0);
        assertThat(refused.action()).isEqualTo(FieldOwnership.AUDIT_REFUSED);
        assertThat(refused.actor()).isEqualTo("hubspot");
        assertThat(refused.target()).isEqualTo("customer:" + s.customer());
        assertThat(refused.detail()).contains("field=email", "outcome=REFUSED", "cid=cid-hubspot-")
                .doesNotContain("anna", "example");
        // a second refusal counts again; a field nobody declared is refused under one tag, whatever its name
        s.ownership().apply(change(s, "hubspot", "email", "anna@private.example", T0.plusSeconds(120)));
        assertThat(s.ownership().apply(change(s, "hubspot", "hs_custom_42", "x", T0)).reason())
                .contains("not declared in mappings/customer/ownership.csv");
        assertThat(s.meters().scrape())
                .contains("interchange_customer_changes_refused_total{field=\"email\",system=\"hubspot\"} 2.0")
                .contains("interchange_customer_changes_refused_total{field=\"(undeclared)\",system=\"hubspot\"} 1.0");
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void everyAppliedChangeIsAuditedWithBeforeAfterAndCorrelationIdPersonalValuesMasked(Backend backend) {
        Setup s = setup(backend);
        s.ownership().apply(change(s, "salesforce", "email", "anna.schmidt@example.com", T0));
        s.ownership().apply(change(s, "salesforce", "email", "anna.mueller@example.com", T0.plusSeconds(5)));
        s.ownership().apply(change(s, "salesforce", "companyName", "Schmidt GmbH", T0));
        s.ownership().apply(change(s, "salesforce", "companyName", "Schmidt & Müller GmbH", T0.plusSeconds(5)));

        List<AuditTrail.Entry> entries = s.store().audit().recent(10);
        assertThat(entries).hasSize(4).allSatisfy(e -> {
            assertThat(e.action()).isEqualTo(FieldOwnership.AUDIT_APPLIED);
            assertThat(e.actor()).isEqualTo("salesforce");
        });
        String emailChange = entries.get(2).detail();
        assertThat(emailChange).startsWith("field=email system=salesforce before=*** [sha256:")
                .contains("(salesforce " + T0 + ")", "after=*** [sha256:", "cid=cid-salesforce-" + T0.plusSeconds(5).getEpochSecond())
                .doesNotContain("anna", "schmidt", "mueller");
        assertThat(entries.get(0).detail()).as("not personal: shown")
                .contains("before=\"Schmidt GmbH\"", "after=\"Schmidt & Müller GmbH\"");
        assertThat(entries.get(1).detail()).contains("before=(none)");
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void newerWinsBySourceTimeSoARevokedConsentIsNotOverwrittenByAnOlderOptIn(Backend backend) {
        Setup s = setup(backend);
        FieldOwnership o = s.ownership();
        assertThat(o.apply(change(s, "salesforce", "marketingConsent", "opted-in", T0)).outcome()).isEqualTo(Outcome.APPLIED);
        assertThat(o.apply(change(s, "hubspot", "marketingConsent", "opted-out", T0.plusSeconds(20))).outcome())
                .isEqualTo(Outcome.APPLIED);

        Verdict older = o.apply(change(s, "salesforce", "marketingConsent", "opted-in", T0.plusSeconds(10)));
        assertThat(older.outcome()).isEqualTo(Outcome.STALE);
        assertThat(older.reason()).contains("from hubspot");
        assertThat(s.store().customerFields().find(s.customer(), "marketingConsent").orElseThrow().value())
                .isEqualTo("opted-out");

        // the same value stated later moves the time on: an opt-in between the two statements is older still
        assertThat(o.apply(change(s, "loyalty", "marketingConsent", "opted-out", T0.plusSeconds(40))).outcome())
                .isEqualTo(Outcome.UNCHANGED);
        assertThat(o.apply(change(s, "salesforce", "marketingConsent", "opted-in", T0.plusSeconds(30))).outcome())
                .isEqualTo(Outcome.STALE);
        assertThat(o.apply(change(s, "salesforce", "marketingConsent", "opted-in", T0.plusSeconds(50))).outcome())
                .isEqualTo(Outcome.APPLIED);
        // a newer-wins field with owners refuses the others
        assertThat(o.apply(change(s, "billing", "lifecycleStage", "customer", T0)).outcome()).isEqualTo(Outcome.REFUSED);
        assertThat(o.apply(change(s, "hubspot", "lifecycleStage", "lead", T0)).outcome()).isEqualTo(Outcome.APPLIED);
        assertThat(o.apply(change(s, "salesforce", "lifecycleStage", "customer", T0.plusSeconds(1))).outcome())
                .isEqualTo(Outcome.APPLIED);
        assertThat(s.meters().scrape()).contains(
                "interchange_customer_changes_refused_total{field=\"lifecycleStage\",system=\"billing\"} 1.0");
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void theOwnersOwnChangesApplyInSourceTimeOrder(Backend backend) {
        Setup s = setup(backend);
        FieldOwnership o = s.ownership();
        o.apply(change(s, "salesforce", "phone", "+49 30 1", T0.plusSeconds(10)));

        assertThat(o.apply(change(s, "salesforce", "phone", "+49 30 0", T0)).outcome()).isEqualTo(Outcome.STALE);
        assertThat(o.apply(change(s, "salesforce", "phone", "+49 30 2", T0.plusSeconds(10))).outcome())
                .as("the owner's change of the same time is its latest word").isEqualTo(Outcome.APPLIED);
        assertThat(o.apply(change(s, "salesforce", "phone", "+49 30 2", T0.plusSeconds(11))).outcome())
                .isEqualTo(Outcome.UNCHANGED);
        assertThat(s.store().customerFields().find(s.customer(), "phone").orElseThrow().value()).isEqualTo("+49 30 2");
        assertThat(s.store().audit().recent(10)).hasSize(2);
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void concurrentChangesOfOneFieldEndWithTheNewest(Backend backend) throws Exception {
        Setup s = setup(backend);
        int writers = 8;
        CyclicBarrier start = new CyclicBarrier(writers);
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            List<Future<Verdict>> futures = new ArrayList<>();
            for (int i = 0; i < writers; i++) {
                Change c = change(s, i % 2 == 0 ? "salesforce" : "hubspot", "preferredLanguage", "lang-" + i,
                        T0.plus(Duration.ofSeconds(i)));
                futures.add(pool.submit(() -> {
                    start.await();
                    return s.ownership().apply(c);
                }));
            }
            long applied = 0;
            for (Future<Verdict> f : futures) if (f.get(30, TimeUnit.SECONDS).applied()) applied++;

            assertThat(s.store().customerFields().find(s.customer(), "preferredLanguage").orElseThrow().value())
                    .isEqualTo("lang-" + (writers - 1));
            assertThat(s.store().audit().recent(50)).as("one audit entry per applied change").hasSize((int) applied);
            assertThat(s.store().customerFields().find(s.customer(), "preferredLanguage").orElseThrow().version())
                    .isEqualTo(applied);
        } finally {
            pool.shutdownNow();
        }
    }

    /** The fixtures beside the table: what is recorded, a change, the expected verdict and its reason. */
    @TestFactory
    Stream<DynamicTest> everyFixtureGetsItsExpectedVerdict() throws IOException {
        Path dir = Path.of("mappings/customer/ownership.fixtures");
        FieldOwnership ownership = new FieldOwnership(FieldOwnership.load(MappingSource.directory(Path.of("mappings"))),
                null, null, null);
        List<Path> inputs;
        try (Stream<Path> files = Files.list(dir)) {
            inputs = files.filter(p -> p.getFileName().toString().endsWith(".input.json")).sorted().toList();
        }
        assertThat(inputs).hasSizeGreaterThanOrEqualTo(10);
        return inputs.stream().map(input -> DynamicTest.dynamicTest(input.getFileName().toString(), () -> {
            JsonNode in = JSON.readTree(input.toFile());
            JsonNode expected = JSON.readTree(input.resolveSibling(input.getFileName().toString()
                    .replace(".input.json", ".expected.json")).toFile());
            JsonNode c = in.path("change");
            JsonNode r = in.path("recorded");
            Optional<CustomerFields.Recorded> recorded = r.isNull() || r.isMissingNode() ? Optional.empty()
                    : Optional.of(new CustomerFields.Recorded("g", c.path("field").asText(), r.path("value").asText(),
                    r.path("system").asText(), Instant.parse(r.path("sourceTime").asText()), 1));

            Verdict v = ownership.decide(new Change("g", c.path("system").asText(), c.path("field").asText(),
                    c.path("value").asText(), Instant.parse(c.path("sourceTime").asText()), "cid"), recorded);

            assertThat(v.outcome().name()).as("outcome (%s)", v.reason()).isEqualTo(expected.path("outcome").asText());
            assertThat(v.reason()).isEqualTo(expected.path("reason").asText());
        }));
    }

    @Test
    void aMalformedOwnershipTableIsRefusedNamingTheLine() {
        String header = "field,owner,rule,personal\n";
        assertThatThrownBy(() -> FieldOwnership.parse(header + "email,salesforce,last-wins,yes\n"))
                .hasMessageContaining("line 2").hasMessageContaining("owner-wins or newer-wins");
        assertThatThrownBy(() -> FieldOwnership.parse(header + "email,*,owner-wins,yes\n"))
                .hasMessageContaining("owner-wins needs an owner");
        assertThatThrownBy(() -> FieldOwnership.parse(header + "email,Sales Force,owner-wins,yes\n"))
                .hasMessageContaining("not system names");
        assertThatThrownBy(() -> FieldOwnership.parse(header + "email,salesforce,owner-wins,yes\nemail,hubspot,owner-wins,yes\n"))
                .hasMessageContaining("field email twice");
        assertThat(FieldOwnership.load(MappingSource.directory(Path.of("mappings"))))
                .containsKeys("email", "marketingConsent", "loyaltyPoints");
    }
}
