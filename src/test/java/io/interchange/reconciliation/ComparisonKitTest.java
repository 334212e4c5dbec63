package io.interchange.reconciliation;

import io.interchange.config.Config;
import io.interchange.mapping.LegalEntityTable;
import io.interchange.mapping.MappingSource;
import io.interchange.store.ReconciliationRuns;
import io.interchange.store.ReconciliationRuns.Kind;
import io.interchange.store.Store;
import io.interchange.testkit.Databases;
import io.interchange.testkit.TempDirs;
import io.interchange.testkit.TestClock;
import org.apache.camel.CamelContext;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The run around a comparison, the same for every comparison: a comparison of two sides other than billing's, read
 * from lists a test fills, is recorded, compared by key in the store, reported under its own sides' names (summary,
 * HTML, CSV), refused when unknown or unavailable, and recorded as FAILED when a side cannot be read. On H2 and
 * PostgreSQL.
 */
class ComparisonKitTest {

    /** Two systems as lists of records: what a comparison's readers would have read from them. */
    static final class Lists implements Comparison {
        final List<ReconciliationRuns.Record> left = new ArrayList<>();
        final List<ReconciliationRuns.Record> right = new ArrayList<>();
        final ReconciliationRuns runs;
        String unavailable;
        RuntimeException failure;

        Lists(ReconciliationRuns runs) {
            this.runs = runs;
        }

        @Override
        public String name() {
            return "left-right";
        }

        @Override
        public String description() {
            return "the left system against the right ledger";
        }

        @Override
        public List<Side> sides() {
            return List.of(new Side(ReconciliationRuns.LOYALTY, "left system"), new Side(ReconciliationRuns.ERP,
                    "right ledger"));
        }

        @Override
        public Set<Kind> kinds() {
            return EnumSet.of(Kind.MISSING_IN_ERP, Kind.MISSING_IN_BILLING, Kind.AMOUNT_DIFFERENCE, Kind.DUPLICATE);
        }

        @Override
        public String unavailable() {
            return unavailable;
        }

        @Override
        public Counts read(Reading reading) {
            long[] counts = new long[2];
            try (ReconciliationRuns.Spool spool = reading.spool()) {
                Progress p = reading.progress("left");
                for (ReconciliationRuns.Record r : left) {
                    p.run();
                    spool.add(r);
                    counts[0]++;
                }
                p.done();
            }
            if (failure != null) throw failure;
            try (ReconciliationRuns.Spool spool = reading.spool()) {
                for (ReconciliationRuns.Record r : right) {
                    spool.add(r);
                    counts[1]++;
                }
            }
            return new Counts(counts, 0, null);
        }

        @Override
        public ReconciliationRuns.Outcome compare(long runId) {
            return runs.compareByKey(runId, new ReconciliationRuns.Pair(ReconciliationRuns.LOYALTY, "the left system",
                    Kind.MISSING_IN_BILLING, ReconciliationRuns.ERP, "the right ledger", Kind.MISSING_IN_ERP), false);
        }
    }

    static ReconciliationRuns.Record record(String side, String key, long amount, LocalDate day) {
        return new ReconciliationRuns.Record(side, key, "POINTS", side + ":" + key, null, "corr-" + key, "EUR", amount,
                day, true, side + " record of " + key);
    }

    @ParameterizedTest
    @MethodSource("io.interchange.testkit.Databases#backends")
    void anyTwoSidesAreComparedReportedAndRefusedTheSameWay(Databases.Backend backend) throws Exception {
        Path reports = TempDirs.create("comparison-kit");
        Config config = Databases.config(backend, Map.of("interchange.reconciliation.report-dir", reports.toString()));
        try (Store store = Store.open(config); CamelContext camel = new DefaultCamelContext()) {
            camel.start();
            Reconciliation reconciliation = new Reconciliation(config, store.reconciliationRuns(),
                    LegalEntityTable.load(MappingSource.bundled()), Clock.systemUTC());
            Lists lists = new Lists(store.reconciliationRuns());
            reconciliation.register(lists);
            reconciliation.start(camel, null, null);
            LocalDate day = LocalDate.of(2026, 11, 3);
            lists.left.add(record(ReconciliationRuns.LOYALTY, "T1", 100, day));
            lists.left.add(record(ReconciliationRuns.LOYALTY, "T2", 250, day));
            lists.left.add(record(ReconciliationRuns.LOYALTY, "T3", -40, day));
            lists.right.add(record(ReconciliationRuns.ERP, "T1", 100, day));
            lists.right.add(record(ReconciliationRuns.ERP, "T2", 205, day)); // a wrong amount
            lists.right.add(record(ReconciliationRuns.ERP, "T4", 70, day)); // only on the right
            lists.right.add(record(ReconciliationRuns.ERP, "T4", 70, day)); // ... twice
            // T3 is only on the left

            Reconciliation.Summary s = reconciliation.run("left-right", "DE01", day, day.plusDays(1));

            assertThat(s.run().status()).as(s.text()).isEqualTo(ReconciliationRuns.COMPLETED);
            assertThat(s.run().comparison()).isEqualTo("left-right");
            assertThat(s.read()).isEqualTo("left system 3, right ledger 4");
            assertThat(s.text()).contains("read: left system 3, right ledger 4").contains("matched 1, differences 3");
            assertThat(s.differences()).containsEntry(Kind.AMOUNT_DIFFERENCE, 1L)
                    .containsEntry(Kind.MISSING_IN_ERP, 1L).containsEntry(Kind.MISSING_IN_BILLING, 1L);
            List<ReconciliationRuns.Difference> found = store.reconciliationRuns().differences(s.runId(), null, 0, 10);
            assertThat(found).extracting(d -> d.kind() + " " + d.key()).containsExactlyInAnyOrder(
                    "AMOUNT_DIFFERENCE T2", "MISSING_IN_ERP T3", "MISSING_IN_BILLING T4");
            ReconciliationRuns.Difference amount = found.stream().filter(d -> d.key().equals("T2")).findFirst().orElseThrow();
            assertThat(amount.billingAmountMinor()).isEqualTo(250);
            assertThat(amount.erpAmountMinor()).isEqualTo(205);
            assertThat(amount.detail()).isEqualTo("the left system 250, the right ledger 205 (minor units of EUR)");
            ReconciliationRuns.Difference missing = found.stream().filter(d -> d.key().equals("T4")).findFirst().orElseThrow();
            assertThat(missing.detail()).startsWith("The right ledger holds 2 record(s) of it; the left system has no");
            assertThat(store.reconciliationRuns().records(s.runId(), amount)).extracting(ReconciliationRuns.Record::recordId)
                    .containsExactlyInAnyOrder("LOYALTY:T2", "ERP:T2");

            // another instance, which made no run, shows the newest run's differences in its metrics
            io.micrometer.core.instrument.simple.SimpleMeterRegistry meters =
                    new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
            try (Reconciliation other = new Reconciliation(config, store.reconciliationRuns(),
                    LegalEntityTable.load(MappingSource.bundled()), Clock.systemUTC())) {
                other.register(new Lists(store.reconciliationRuns()));
                other.start(camel, meters, null, "another-instance");
                org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() ->
                        assertThat(meters.find(Reconciliation.DIFFERENCES_METRIC).tags("comparison", "left-right",
                                "entity", "DE01", "kind", "amount_difference").gauge()).isNotNull()
                                .extracting(g -> g.value()).isEqualTo(1.0));
                assertThat(meters.get(Reconciliation.DIFFERENCES_METRIC).tags("comparison", "left-right", "entity",
                        "DE01", "kind", "duplicate").gauge().value()).isZero();
            }

            StringWriter html = new StringWriter();
            reconciliation.html(s.runId(), html);
            assertThat(html.toString()).contains("left-right: the left system against the right ledger")
                    .contains("<th>Left system records</th><th>Left system amount</th><th>Right ledger records</th>")
                    .contains("<th>Left system</th><th>Right ledger</th>")
                    // the comparison's kinds are listed, not billing's confirmations
                    .contains("<td>MISSING_IN_BILLING</td>").doesNotContain("CONFIRMATION_MISSING")
                    // a comparison that says nothing of its own has the kinds' system-neutral meanings
                    .contains("<td>MISSING_IN_ERP</td><td>held by the system compared, not by the ERP</td>");
            StringWriter csv = new StringWriter();
            reconciliation.csv(s.runId(), csv);
            assertThat(csv.toString()).startsWith("run,legal_entity,period_from,period_to,difference,kind,side,document,"
                    + "erp_document,currency,loyalty_amount,erp_amount,loyalty_count,erp_count,detail,");
            assertThat(reconciliation.reportFiles(s.runId())[0]).exists();

            // a comparison that cannot run now, an unknown one: refused, nothing recorded
            int before = store.reconciliationRuns().recent(100).size();
            lists.unavailable = "the left system is not configured";
            assertThatThrownBy(() -> reconciliation.run("left-right", "DE01", day, day.plusDays(1)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("comparison left-right cannot run: the left system is not configured");
            assertThat(reconciliation.runClosedDays()).isEmpty(); // skipped by the daily job too
            assertThatThrownBy(() -> reconciliation.run("billing-erp", "DE01", day, day.plusDays(1)))
                    .hasMessage("unknown comparison 'billing-erp'; this instance runs: left-right");
            assertThat(store.reconciliationRuns().recent(100)).hasSize(before);

            // a side that cannot be read fails the run, recorded with the reason
            lists.unavailable = null;
            lists.failure = new IllegalStateException("the right ledger answered 503");
            assertThatThrownBy(() -> reconciliation.run("left-right", "DE01", day, day.plusDays(1)))
                    .hasMessage("the right ledger answered 503");
            ReconciliationRuns.Run failed = store.reconciliationRuns().recent(1).get(0);
            assertThat(failed.status()).isEqualTo(ReconciliationRuns.FAILED);
            assertThat(failed.detail()).isEqualTo("failed: the right ledger answered 503");
        } finally {
            TempDirs.delete(reports);
        }
    }

    @ParameterizedTest
    @MethodSource("io.interchange.testkit.Databases#backends")
    void aRunWhoseInstanceStoppedIsMarkedFailedOnceItsHeartbeatIsLongPast(Databases.Backend backend) throws Exception {
        Path reports = TempDirs.create("comparison-kit");
        Config config = Databases.config(backend, Map.of("interchange.reconciliation.report-dir", reports.toString()));
        TestClock clock = new TestClock(Instant.parse("2026-11-04T08:00:00Z"));
        try (Store store = Store.open(config, clock); CamelContext camel = new DefaultCamelContext()) {
            camel.start();
            ReconciliationRuns runs = store.reconciliationRuns();
            LocalDate day = LocalDate.of(2026, 11, 3);
            // one instance died while carrying a run out; another's run is alive and beating
            long dead = runs.start("left-right", "DE01", day, day.plusDays(1), "host-a-4711");
            long alive = runs.start("left-right", "FR01", day, day.plusDays(1), "host-b-815");
            clock.advance(Reconciliation.STALE_AFTER.minusSeconds(30));
            runs.beat(alive);
            clock.advance(Duration.ofMinutes(1));

            Reconciliation reconciliation = new Reconciliation(config, runs,
                    LegalEntityTable.load(MappingSource.bundled()), clock);
            Lists lists = new Lists(runs);
            reconciliation.register(lists);
            reconciliation.start(camel, null, null, "host-c-99");

            ReconciliationRuns.Run cut = runs.find(dead).orElseThrow();
            assertThat(cut.status()).isEqualTo(ReconciliationRuns.FAILED);
            assertThat(cut.detail()).startsWith("cut off: instance host-a-4711 stopped carrying it out; last heartbeat ")
                    .endsWith("; run it again");
            assertThat(cut.finishedAt()).isEqualTo(clock.instant());
            assertThat(runs.find(alive).orElseThrow().status()).isEqualTo(ReconciliationRuns.RUNNING);

            // a run carried out here is kept with this instance, and finishes as it would
            Reconciliation.Summary s = reconciliation.run("left-right", "DE01", day, day.plusDays(1));
            assertThat(s.run().instanceId()).isEqualTo("host-c-99");
            assertThat(s.run().status()).isEqualTo(ReconciliationRuns.COMPLETED);
            // the living run stops beating: once its heartbeat is long past, the next run begun marks it
            clock.advance(Reconciliation.STALE_AFTER);
            reconciliation.run("left-right", "GB01", day, day.plusDays(1));
            assertThat(runs.find(alive).orElseThrow().status()).isEqualTo(ReconciliationRuns.FAILED);
            assertThat(runs.find(s.runId()).orElseThrow().status()).isEqualTo(ReconciliationRuns.COMPLETED);
        } finally {
            TempDirs.delete(reports);
        }
    }
}
