package io.interchange.sandbox;

import io.interchange.testkit.SandboxSettings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.interchange.config.Config;
import io.interchange.store.CrossReferences;
import io.interchange.store.DeadLetter;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.Test;

/**
 * {@code --sandbox} with its customer traffic, briefly: customers made in Salesforce and HubSpot reach the billing
 * platform, the ERPs and the loyalty program, their ids are written back to the Salesforce records, a HubSpot contact
 * with a Salesforce contact's e-mail is the same customer, HubSpot's phone edits are refused, nothing of it is
 * dead-lettered, and the summary shows the customer block.
 */
class SandboxCustomersTest {

    @Test
    void customersMadeInBothCrmsReachEveryTargetAndTheSummaryShowsThem() throws Exception {
        SandboxSettings settings = SandboxSettings.forTest("interchange-sandbox-customers");
        Map<String, String> values = settings.values();
        ByteArrayOutputStream banner = new ByteArrayOutputStream();

        try (settings; Sandbox sandbox = Sandbox.start(Config.of(values), 2, Duration.ofMillis(500), 42L,
                new PrintStream(banner, true, StandardCharsets.UTF_8), null)) {
            assertThat(sandbox.customers()).as("the sandbox runs the customer flows by default").isNotNull();
            await().atMost(Duration.ofSeconds(50)).pollInterval(Duration.ofSeconds(1)).until(() ->
                    !syncedStripeCustomers(sandbox).isEmpty()
                            && !sandbox.s4().businessPartners().partners().isEmpty()
                            && !sandbox.legacy().customers().isEmpty()
                            && !sandbox.loyalty().members().isEmpty()
                            && !writtenBackAccounts(sandbox).isEmpty()
                            && samePersonInBothCrms(sandbox)
                            && sandbox.summary().contains("hubspot phone"));
            String summary = sandbox.summary();
            System.out.println(summary);

            CrossReferences xref = sandbox.runtime().store().crossReferences();
            Map<String, Object> account = writtenBackAccounts(sandbox).get(0);
            String globalId = (String) account.get("Interchange_Global_Id__c");
            assertThat(xref.resolve("salesforce", sandbox.salesforce().orgId + "/company", (String) account.get("Id")))
                    .contains(globalId);
            assertThat(syncedStripeCustomers(sandbox)).extracting(c -> c.path("id").asText())
                    .contains((String) account.get("Billing_Customer_Id__c"));
            // each billing customer the sync made is a claimed creation of one customer (the claim comes first)
            int made = syncedStripeCustomers(sandbox).size();
            CrossReferences.SystemCount billing = xref.countBySystem().get("billing");
            assertThat(made).isPositive().isLessThanOrEqualTo((int) (billing.linked() + billing.pending()));
            assertThat(xref.countCustomers()).isPositive();
            assertThat(xref.countBySystem()).containsKeys("salesforce", "hubspot", "billing", "loyalty");
            assertThat(sandbox.runtime().store().deadLetters().list("customer.sync", DeadLetter.OPEN, 100))
                    .as("no customer change is dead-lettered").isEmpty();
            assertThat(sandbox.customers().stats().webhooksFailed()).isZero();

            assertThat(summary).contains("in the store, linked: salesforce ").contains("erp-s4hana ")
                    .contains("records: Stripe customers ").contains("S/4HANA partners ").contains("legacy ERP customers ")
                    .contains("loyalty members ").contains("changes: ").contains("synced ").contains("refused field changes ")
                    .contains("dead letters customer.sync 0").contains("CRM users: Salesforce accounts ");
            // the customer block keeps to the summary's width (its continuation lines break after a comma)
            assertThat(summary.substring(summary.indexOf("    customers ")).lines())
                    .allSatisfy(l -> assertThat(l.length()).as(l).isLessThanOrEqualTo(111));
            assertThat(banner.toString(StandardCharsets.UTF_8)).contains("Simulated CRM users (seed 42)")
                    .contains("crm-hubspot,crm-salesforce,customer-sync");
        }
    }

    /** The billing customers the customer sync made (not the billing simulator's own). */
    private static List<JsonNode> syncedStripeCustomers(Sandbox sandbox) {
        return sandbox.billingCustomersMade();
    }

    /** Salesforce accounts the runtime wrote the global id and the billing customer's id back to. */
    private static List<Map<String, Object>> writtenBackAccounts(Sandbox sandbox) {
        return sandbox.salesforce().all("Account").stream()
                .filter(a -> a.get("Interchange_Global_Id__c") != null && a.get("Billing_Customer_Id__c") != null)
                .toList();
    }

    /** A HubSpot contact and a Salesforce contact of the same e-mail, given the same global id by the write-backs. */
    private static boolean samePersonInBothCrms(Sandbox sandbox) {
        for (Map<String, Object> contact : sandbox.salesforce().all("Contact")) {
            Object globalId = contact.get("Interchange_Global_Id__c");
            if (globalId == null) continue;
            boolean twin = sandbox.hubSpot().records("contacts").stream().map(r -> r.path("properties"))
                    .anyMatch(p -> Objects.equals(p.path("email").asText(null), contact.get("Email"))
                            && globalId.equals(p.path("interchange_global_id").asText(null)));
            if (twin) return true;
        }
        return false;
    }
}
