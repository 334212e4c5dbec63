package io.interchange.reconciliation;

import io.interchange.config.Config;
import io.interchange.config.Settings;
import io.interchange.mapping.LegalEntityTable;
import io.interchange.mapping.MappingSource;
import io.interchange.sandbox.Sandbox;
import io.interchange.store.ReconciliationRuns;
import io.interchange.testkit.SandboxSettings;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The customers comparison over what the sandbox's simulated CRM users did: accounts made and edited in Salesforce,
 * synchronised to billing and the ERPs of their entities (S/4HANA's and the legacy ERP's). Once the users have stopped
 * and the sync has drained, the CRM, billing and the ERP agree for every entity; what is left is what is true: the
 * billing simulator's own customers (put in the billing platform at start, each naming its entity, linked to no
 * customer of the master) are reported UNLINKED.
 */
class SandboxCustomersReconciliationTest {

    @Test
    void whatTheSandboxSynchronisedReconcilesCleanForEveryEntity() throws Exception {
        SandboxSettings settings = SandboxSettings.forTest("interchange-sandbox-customers");
        Map<String, String> values = settings.values();
        values.put(Settings.FLOWS.key(), "crm-salesforce,crm-hubspot,customer-sync");
        values.put(Settings.RECONCILIATION_DAILY.key(), "false");
        try (settings; Sandbox sandbox = Sandbox.start(Config.of(values), 30,
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))) {
            Thread.sleep(30_000);
            sandbox.customers().close();
            // drained: no record linked or being created anew for a few seconds, none pending
            AtomicLong last = new AtomicLong(-1);
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(3)).until(() -> {
                var bySystem = sandbox.runtime().store().crossReferences().countBySystem();
                long pending = bySystem.values().stream().mapToLong(c -> c.pending()).sum();
                long linked = bySystem.values().stream().mapToLong(c -> c.linked()).sum();
                return pending == 0 && last.getAndSet(linked) == linked;
            });
            Reconciliation reconciliation = sandbox.runtime().reconciliation();
            java.util.Set<String> made = new java.util.HashSet<>();
            sandbox.billingCustomersMade().forEach(c -> made.add(c.path("id").asText()));
            LegalEntityTable entities = LegalEntityTable.load(MappingSource.bundled());
            long customers = 0;
            for (String entity : List.of("DE01", "US01", "GB01", "FR01")) {
                entities.find(entity).orElseThrow();
                LocalDate today = LocalDate.now(ZoneOffset.UTC);
                Reconciliation.Summary s = reconciliation.run(CustomersComparison.NAME, entity, today.minusDays(1),
                        today.plusDays(1));
                List<ReconciliationRuns.Difference> found = sandbox.runtime().store().reconciliationRuns()
                        .differences(s.runId(), null, 0, 100);
                System.out.println(s.text() + found.stream().map(d -> "\n    " + d.kind() + " " + d.side() + " "
                        + d.key() + ": " + d.detail()).reduce("", String::concat));
                assertThat(s.run().status()).as(s.text()).isEqualTo(ReconciliationRuns.COMPLETED);
                assertThat(found).as(s.text()).allSatisfy(d -> {
                    assertThat(d.kind()).isEqualTo(ReconciliationRuns.Kind.UNLINKED);
                    assertThat(d.key()).startsWith("UNLINKED|billing|");
                    assertThat(made).doesNotContain(d.key().substring("UNLINKED|billing|".length()));
                });
                customers += s.run().matched();
            }
            assertThat(customers).as("customers matched over all entities").isPositive();
        }
    }
}
