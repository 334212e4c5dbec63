package io.interchange.reconciliation;

import io.interchange.testkit.SandboxSettings;
import io.interchange.config.Config;
import io.interchange.config.Settings;
import io.interchange.mapping.LegalEntity;
import io.interchange.sandbox.Sandbox;
import io.interchange.sandbox.StripeEventFactory;
import io.interchange.store.ReconciliationRuns;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Reconciliation over what the sandbox's simulated billing platform did: every kind of billing document (invoices paid
 * in parts, refunds, credit notes, disputes, voids, write-offs), posted at both ERP peers. Once the simulator has
 * stopped and the ledger has drained, billing, the ledgers and the confirmations agree for every entity.
 */
class SandboxReconciliationTest {

    @Test
    void whatTheSandboxPostedReconcilesCleanForEveryEntity() throws Exception {
        SandboxSettings settings = SandboxSettings.forTest("interchange-sandbox-reconciliation");
        Map<String, String> values = settings.values();
        values.put(Settings.SANDBOX_STRIPE_API_VERSION.key(), StripeEventFactory.NEWEST_API_VERSION);
        // billing alone: the loyalty and customer simulators would keep posting
        values.put(Settings.FLOWS.key(), "billing-ledger,billing-webhook");
        try (settings; Sandbox sandbox = Sandbox.start(Config.of(values), 30,
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))) {
            Thread.sleep(25_000);
            // every event the simulated platform lists in its API delivered first: closing outright abandons the ones
            // under way, which reconciliation then rightly reports missing at the ERP
            assertThat(sandbox.billing().finish(Duration.ofSeconds(30))).as("deliveries settled").isTrue();
            // drained: no new journal entry and no new confirmation for a few seconds
            AtomicLong last = new AtomicLong(-1);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(3)).until(() -> {
                long now = sandbox.s4().postings().size() + sandbox.legacy().postings().size()
                        + sandbox.runtime().store().confirmations().count();
                return last.getAndSet(now) == now;
            });
            Reconciliation reconciliation = sandbox.runtime().reconciliation();
            long documents = 0;
            for (String entity : List.of("DE01", "US01", "GB01", "FR01")) {
                LegalEntity e = sandbox.runtime().reconciliation() == null ? null
                        : io.interchange.mapping.LegalEntityTable.load(io.interchange.mapping.MappingSource.bundled())
                        .find(entity).orElseThrow();
                LocalDate today = ZonedDateTime.now(e.timeZone()).toLocalDate();
                Reconciliation.Summary s = reconciliation.run(entity, today.minusDays(1), today.plusDays(1));
                List<ReconciliationRuns.Difference> found = sandbox.runtime().store().reconciliationRuns()
                        .differences(s.runId(), null, 0, 100);
                System.out.println(s.text() + found.stream().map(d -> "\n    " + d.kind() + " " + d.key() + " "
                        + d.erpDocument() + ": " + d.detail()).reduce("", String::concat));
                assertThat(s.run().status()).isEqualTo(ReconciliationRuns.COMPLETED);
                assertThat(s.run().unreadableRecords()).as(s.text()).isZero();
                assertThat(found).as(s.text()).isEmpty();
                documents += s.run().matched();
            }
            assertThat(documents).as("documents matched over all entities").isGreaterThan(20);
        }
    }
}
