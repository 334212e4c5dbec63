package io.interchange.reconciliation;

import com.fasterxml.jackson.databind.JsonNode;
import io.interchange.sandbox.ReconciliationVolume;
import io.interchange.sandbox.StripeApiPeer;
import io.interchange.store.ReconciliationRuns;
import io.interchange.store.ReconciliationRuns.Difference;
import io.interchange.store.ReconciliationRuns.Kind;
import io.interchange.testkit.Databases;
import io.interchange.testkit.RuntimeKit;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.LocalDate;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reconciliation at volume, at the size the suite affords (the benchmark runs a million a side): 20,000 invoices a
 * day served by the billing platform's list endpoint in pages of 100, their journal entries read from S/4HANA's item
 * cube in pages of 1,000 items, their confirmations from the store. A clean day reports nothing and matches every
 * invoice; a day with differences made at chosen invoices reports exactly those, each with its records.
 */
class ReconciliationVolumeTest {

    static final int COUNT = 20_000;
    static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");

    @ParameterizedTest
    @MethodSource("io.interchange.testkit.Databases#backends")
    void twentyThousandInvoicesADayReconcileCleanAndEveryDifferenceMadeIsFound(Databases.Backend backend)
            throws Exception {
        JsonNode invoice = ReconciliationTest.object("invoice-finalized-basic");
        try (StripeApiPeer api = new StripeApiPeer(0, ReconciliationTest.KEY).start();
             RuntimeKit kit = RuntimeKit.start(backend, Map.of("interchange.billing.api-url", api.url(),
                     "interchange.billing.api-key", ReconciliationTest.KEY,
                     // the platform's rate limit (20 requests a second by default) is not what this test is about
                     "interchange.billing.api-max-rate", "1000",
                     "interchange.reconciliation.daily", "false",
                     "interchange.reconciliation.billing-page-size", "100",
                     "interchange.reconciliation.erp-page-size", "1000",
                     "interchange.reconciliation.progress-every", "5000"))) {
            LocalDate clean = LocalDate.of(2026, 11, 2);
            ReconciliationVolume day = new ReconciliationVolume(invoice, "DE01", "1010", "EUR", BERLIN, clean, COUNT,
                    RuntimeKit.ERP_USER, ReconciliationVolume.Differences.NONE);
            load(kit, api, day);

            Reconciliation.Summary s = kit.runtime.reconciliation().run("DE01", clean, clean.plusDays(1));

            assertThat(s.run().status()).as(s.text()).isEqualTo(ReconciliationRuns.COMPLETED);
            assertThat(s.run().billingRecords()).as(s.text()).isEqualTo(COUNT);
            assertThat(s.run().erpRecords()).as(s.text()).isEqualTo(COUNT);
            assertThat(s.run().confirmationRecords()).as(s.text()).isEqualTo(COUNT);
            assertThat(s.run().unreadableRecords()).as(s.text()).isZero();
            assertThat(s.run().matched()).as(s.text()).isEqualTo(COUNT);
            assertThat(s.run().differences()).as(s.text()).isZero();
            // the progress gauge holds what the run read from each side
            MeterRegistry meters = kit.runtime.camelContext().getRegistry().findByType(MeterRegistry.class).iterator().next();
            for (String side : List.of("billing", "erp", "confirmations")) {
                assertThat(meters.get(Reconciliation.RECORDS_READ_METRIC).tag("side", side).gauge().value())
                        .as(side).isEqualTo(COUNT);
            }

            // another entity (its own company code and confirmations), so that neither day lies in the other's margin
            LocalDate differing = LocalDate.of(2026, 11, 3);
            ReconciliationVolume other = new ReconciliationVolume(invoice, "US01", "1710", "USD",
                    ZoneId.of("America/Los_Angeles"), differing,
                    COUNT, RuntimeKit.ERP_USER, new ReconciliationVolume.Differences(Set.of(7, COUNT - 1), Set.of(100),
                    Set.of(5_000), 2));
            load(kit, api, other);

            Reconciliation.Summary d = kit.runtime.reconciliation().run("US01", differing, differing.plusDays(1));

            assertThat(d.run().status()).as(d.text()).isEqualTo(ReconciliationRuns.COMPLETED);
            assertThat(d.run().billingRecords()).as(d.text()).isEqualTo(COUNT);
            assertThat(d.run().erpRecords()).as(d.text()).isEqualTo(COUNT - 2 + 2); // 2 not posted, 2 not billed
            assertThat(d.run().confirmationRecords()).as(d.text()).isEqualTo(COUNT - 1); // and 1 not confirmed
            assertThat(d.run().matched()).as(d.text()).isEqualTo(COUNT - 3);
            ReconciliationRuns runs = kit.runtime.store().reconciliationRuns();
            List<Difference> found = runs.differences(d.runId(), null, 0, 100);
            assertThat(found).as(d.text()).extracting(Difference::kind, Difference::key).containsExactlyInAnyOrder(
                    org.assertj.core.groups.Tuple.tuple(Kind.MISSING_IN_ERP, "INVOICE|" + other.number(7)),
                    org.assertj.core.groups.Tuple.tuple(Kind.MISSING_IN_ERP, "INVOICE|" + other.number(COUNT - 1)),
                    org.assertj.core.groups.Tuple.tuple(Kind.AMOUNT_DIFFERENCE, "INVOICE|" + other.number(100)),
                    org.assertj.core.groups.Tuple.tuple(Kind.CONFIRMATION_MISSING, "INVOICE|" + other.number(5_000)),
                    org.assertj.core.groups.Tuple.tuple(Kind.MISSING_IN_BILLING, "INVOICE|" + other.number(COUNT)),
                    org.assertj.core.groups.Tuple.tuple(Kind.MISSING_IN_BILLING, "INVOICE|" + other.number(COUNT + 1)));
            Difference amount = found.stream().filter(f -> f.kind() == Kind.AMOUNT_DIFFERENCE).findFirst().orElseThrow();
            assertThat(amount.erpAmountMinor() - amount.billingAmountMinor()).isEqualTo(ReconciliationVolume.AMOUNT_OFF);
            assertThat(runs.records(d.runId(), amount)).extracting(ReconciliationRuns.Record::side)
                    .containsExactly("BILLING", "ERP", "OURS");
            Difference unconfirmed = found.stream().filter(f -> f.kind() == Kind.CONFIRMATION_MISSING).findFirst()
                    .orElseThrow();
            assertThat(runs.records(d.runId(), unconfirmed)).extracting(ReconciliationRuns.Record::side)
                    .containsExactly("BILLING", "ERP");
        }
    }

    /** The day's invoices on the billing platform's list, its entries at S/4HANA, its confirmations in the store. */
    private static void load(RuntimeKit kit, StripeApiPeer api, ReconciliationVolume volume) throws Exception {
        api.serveList("/v1/invoices", volume.listing());
        volume.postTo(kit.s4);
        try (java.sql.Connection c = kit.runtime.store().dataSource().getConnection()) {
            volume.confirm(c);
        }
    }
}
