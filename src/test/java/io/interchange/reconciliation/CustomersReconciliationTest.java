package io.interchange.reconciliation;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.sandbox.S4BusinessPartnerReplication;
import io.interchange.store.CrossReferences;
import io.interchange.store.ReconciliationRuns;
import io.interchange.store.ReconciliationRuns.Kind;
import io.interchange.testkit.CustomerPeers;
import io.interchange.testkit.Databases;
import io.interchange.testkit.RuntimeKit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The customer master reconciled end to end: a whole runtime (store on H2 and PostgreSQL) reads the entity's
 * Salesforce Accounts through camel-salesforce from the Salesforce peer, its HubSpot contacts from the HubSpot peer,
 * the billing customers from the Stripe API
 * peer and the business partners from the S/4HANA peer's API_BUSINESS_PARTNER, every list paged, each record keyed
 * by the cross-reference. Clean data reports nothing; an unlinked customer, a customer missing at the ERP, a customer
 * twice in the CRM and a mismatched e-mail are each found with the right records.
 */
class CustomersReconciliationTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String ENTITY = "DE01";
    static final String COMPANY = "1010";

    @ParameterizedTest
    @MethodSource("io.interchange.testkit.Databases#backends")
    void cleanDataReportsNothingAndEachInjectedDifferenceIsFoundWithItsRecords(Databases.Backend backend) throws Exception {
        withRuntime(backend, (peers, kit) -> {
            peers.salesforce.pageSize(2);
            kit.s4.setMaxPageSize(2);
            CrossReferences xref = kit.runtime.store().crossReferences();
            Reconciliation reconciliation = kit.runtime.reconciliation();
            LocalDate today = LocalDate.now(ZoneOffset.UTC);
            LocalDate from = today.minusDays(7);
            LocalDate to = today.plusDays(1);

            // three customers in every system, linked, agreeing after normalisation; one of another entity
            String a = customer(kit, peers, xref, "Acme GmbH", "info@acme.example", true);
            String b = customer(kit, peers, xref, "Beta AG", "hello@beta.example", true);
            String c = customer(kit, peers, xref, "Gamma KG", "kontakt@gamma.example", true);
            account(peers, "Other Ltd", "US01");
            // a person made in HubSpot, in billing and S/4HANA as "Jane Doe"
            String h = xref.mint();
            String contact = peers.hubSpot.create("contacts", Map.of("firstname", "Jane", "lastname", "Doe",
                    "email", "Jane.Doe@example.com", "legal_entity", ENTITY));
            peers.hubSpot.create("contacts", Map.of("firstname", "John", "lastname", "Roe", "email",
                    "john@roe.example", "legal_entity", "US01"));
            xref.link(h, "hubspot", "portal/contact", contact);
            peers.stripe.putCustomer(stripeCustomer("cus_janedoe00001", "Jane Doe", "jane.doe@example.com"));
            xref.link(h, "billing", "", "cus_janedoe00001");
            kit.s4.businessPartners().putPartner(new S4BusinessPartnerReplication.Partner("2999999", "r-" + h,
                    "INTERCHANGE", "s-" + h, "1", "Jane Doe", "jane.doe@example.com", "DE", Set.of(COMPANY), 1,
                    LocalDate.now(ZoneOffset.UTC)));
            xref.link(h, "erp-s4hana", "", "2999999");

            Reconciliation.Summary clean = reconciliation.run(CustomersComparison.NAME, ENTITY, from, to);

            assertThat(clean.run().status()).as(clean.text()).isEqualTo(ReconciliationRuns.COMPLETED);
            assertThat(clean.read()).isEqualTo("CRM 4, billing 4, ERP partners 4");
            assertThat(clean.run().differences()).as(clean.text()).isZero();
            assertThat(clean.run().matched()).isEqualTo(4);
            assertThat(peers.salesforce.requests()).anySatisfy(r -> assertThat(r).contains("/query/"));

            // an unlinked billing customer; b missing at the ERP; c twice in Salesforce; a's e-mail at the ERP
            ObjectNode unlinked = stripeCustomer("cus_unlinked1", "Delta SE", "d@delta.example");
            peers.stripe.putCustomer(unlinked);
            S4BusinessPartnerReplication.Partner bPartner = partnerOf(kit, b);
            kit.s4.businessPartners().putPartner(new S4BusinessPartnerReplication.Partner(bPartner.number(),
                    bPartner.receiverUuid(), bPartner.senderSystem(), bPartner.senderUuid(), "2", bPartner.name(),
                    bPartner.email(), bPartner.country(), Set.of("1710"), 2, bPartner.createdOn()));
            String cTwice = account(peers, "Gamma KG", ENTITY);
            xref.link(c, "salesforce", "00Dsecondorg/company", cTwice);
            S4BusinessPartnerReplication.Partner aPartner = partnerOf(kit, a);
            kit.s4.businessPartners().putPartner(new S4BusinessPartnerReplication.Partner(aPartner.number(),
                    aPartner.receiverUuid(), aPartner.senderSystem(), aPartner.senderUuid(), "2", aPartner.name(),
                    "old@acme.example", aPartner.country(), aPartner.companyCodes(), 2, aPartner.createdOn()));

            Reconciliation.Summary found = reconciliation.run(CustomersComparison.NAME, ENTITY, from, to);

            assertThat(found.run().status()).as(found.text()).isEqualTo(ReconciliationRuns.COMPLETED);
            assertThat(found.differences()).as(found.text()).containsOnly(Map.entry(Kind.UNLINKED, 1L),
                    Map.entry(Kind.MISSING_IN_ERP, 1L), Map.entry(Kind.DUPLICATE, 1L), Map.entry(Kind.DATA_DIFFERENCE, 1L));
            ReconciliationRuns runs = kit.runtime.store().reconciliationRuns();
            List<ReconciliationRuns.Difference> differences = runs.differences(found.runId(), null, 0, 100);

            ReconciliationRuns.Difference u = only(differences, Kind.UNLINKED);
            assertThat(u.key()).isEqualTo("UNLINKED|billing|cus_unlinked1");
            assertThat(u.side()).isEqualTo("billing");
            assertThat(runs.records(found.runId(), u)).singleElement()
                    .satisfies(r -> assertThat(r.recordId()).isEqualTo("cus_unlinked1"));

            ReconciliationRuns.Difference m = only(differences, Kind.MISSING_IN_ERP);
            assertThat(m.key()).isEqualTo(b);
            assertThat(runs.records(found.runId(), m)).extracting(ReconciliationRuns.Record::side)
                    .containsExactlyInAnyOrder(ReconciliationRuns.CRM, ReconciliationRuns.BILLING);

            ReconciliationRuns.Difference d = only(differences, Kind.DUPLICATE);
            assertThat(d.key()).isEqualTo(c);
            assertThat(d.side()).isEqualTo("salesforce");
            assertThat(d.detail()).contains(cTwice);
            assertThat(runs.records(found.runId(), d)).filteredOn(r -> r.side().equals(ReconciliationRuns.CRM))
                    .hasSize(2);

            ReconciliationRuns.Difference e = only(differences, Kind.DATA_DIFFERENCE);
            assertThat(e.key()).isEqualTo(a);
            assertThat(e.side()).isEqualTo("erp-s4hana");
            assertThat(e.detail()).startsWith("email differs").contains("\"email\":\"info@acme.example\"")
                    .contains("\"email\":\"old@acme.example\"").contains("billing");

            // the report files and an operator without the privileged role see no name or e-mail; the
            // privileged user sees them
            String file = java.nio.file.Files.readString(reconciliation.reportFiles(found.runId())[0]);
            assertThat(file).contains("email differs").contains("&quot;email&quot;:&quot;***&quot;")
                    .doesNotContain("info@acme.example").doesNotContain("old@acme.example");
            // records without amounts are counted per side, with no money table
            assertThat(file).contains("<h2>Records in the period</h2>").doesNotContain("Totals in the period");
            assertThat(java.nio.file.Files.readString(reconciliation.reportFiles(found.runId())[1]))
                    .contains("email differs").doesNotContain("info@acme.example");
            java.io.StringWriter revealed = new java.io.StringWriter();
            reconciliation.html(found.runId(), revealed, true);
            assertThat(revealed.toString()).contains("info@acme.example").contains("old@acme.example");
        });
    }

    @ParameterizedTest
    @MethodSource("io.interchange.testkit.Databases#backends")
    void anEntityAtTheLegacyErpIsComparedWithTheLegacyErpsCustomers(Databases.Backend backend) throws Exception {
        withRuntime(backend, (peers, kit) -> {
            CrossReferences xref = kit.runtime.store().crossReferences();
            LocalDate today = LocalDate.now(ZoneOffset.UTC);
            // FR01 has no cut-over date: its customers are at the legacy ERP, company FR-01
            String globalId = xref.mint();
            String account = account(peers, "Etoile SARL", "FR01");
            xref.link(globalId, "salesforce", "00Dtestorg/company", account);
            ObjectNode billing = stripeCustomer("cus_etoile00001", "Etoile SARL", "contact@etoile.example");
            billing.with("metadata").put("legal_entity", "FR01");
            billing.with("address").put("country", "FR");
            peers.stripe.putCustomer(billing);
            xref.link(globalId, "billing", "", "cus_etoile00001");
            kit.legacy.putCustomer(new io.interchange.sandbox.LegacyErpPeer.Customer("FR-01", globalId, "C7000001",
                    "SARL Etoile", "contact@etoile.example", "FR", null, 1, today));
            xref.link(globalId, "erp-legacy", "FR01", "C7000001");
            // a customer made by hand at the legacy ERP, and one of another company
            kit.legacy.putCustomer(new io.interchange.sandbox.LegacyErpPeer.Customer("FR-01", "by-hand", "C7000002",
                    "Doe, Jane", "jane@doe.example", "FR", null, 1, today));
            kit.legacy.putCustomer(new io.interchange.sandbox.LegacyErpPeer.Customer("GB-01", "other", "C7000003",
                    "Other Ltd", null, "GB", null, 1, today));

            Reconciliation.Summary s = kit.runtime.reconciliation().run(CustomersComparison.NAME, "FR01",
                    today.minusDays(7), today.plusDays(1));

            assertThat(s.run().status()).as(s.text()).isEqualTo(ReconciliationRuns.COMPLETED);
            assertThat(s.read()).isEqualTo("CRM 1, billing 1, ERP partners 2");
            assertThat(s.run().matched()).as(s.text()).isEqualTo(1);
            assertThat(s.differences()).as(s.text()).containsOnly(Map.entry(Kind.UNLINKED, 1L));
            assertThat(kit.runtime.store().reconciliationRuns().differences(s.runId(), null, 0, 10))
                    .singleElement().satisfies(d -> {
                        assertThat(d.key()).isEqualTo("UNLINKED|erp-legacy|C7000002");
                        assertThat(d.side()).isEqualTo("erp-legacy");
                    });
        });
    }

    @ParameterizedTest
    @MethodSource("io.interchange.testkit.Databases#backends")
    void afterItsCutOverAnEntitysCustomersStillOnlyAtTheLegacyErpAreAtTheErp(Databases.Backend backend) throws Exception {
        withRuntime(backend, (peers, kit) -> {
            CrossReferences xref = kit.runtime.store().crossReferences();
            LocalDate today = LocalDate.now(ZoneOffset.UTC);
            // DE01 cut over to S/4HANA in 2024. A customer unchanged since is only at the legacy ERP (company
            // DE-01); one changed since has its S/4HANA partner, and its legacy record keeps an older e-mail
            String unchanged = customer(kit, peers, xref, "Alt GmbH", "info@alt.example", false);
            kit.legacy.putCustomer(new io.interchange.sandbox.LegacyErpPeer.Customer("DE-01", unchanged, "C1000001",
                    "Alt GmbH", "info@alt.example", "DE", null, 1, today.minusYears(3)));
            xref.link(unchanged, "erp-legacy", ENTITY, "C1000001");
            String changed = customer(kit, peers, xref, "Neu AG", "hello@neu.example", true);
            kit.legacy.putCustomer(new io.interchange.sandbox.LegacyErpPeer.Customer("DE-01", changed, "C1000002",
                    "Neu AG", "old@neu.example", "DE", null, 1, today.minusYears(3)));
            xref.link(changed, "erp-legacy", ENTITY, "C1000002");
            // and one at neither ERP, whose billing customer names no entity in its metadata: the customer
            // master's legalEntity places it
            String nowhere = customer(kit, peers, xref, "Ohne KG", "ohne@example.com", false);
            String billingId = "cus_" + nowhere.replace("-", "").substring(0, 14);
            ObjectNode bare = stripeCustomer(billingId, "OHNE KG", "ohne@example.com");
            bare.remove("metadata");
            peers.stripe.putCustomer(bare);
            kit.runtime.store().customerFields().write(java.util.Optional.empty(), nowhere, "legalEntity", ENTITY,
                    "salesforce", Instant.now());

            Reconciliation.Summary s = kit.runtime.reconciliation().run(CustomersComparison.NAME, ENTITY,
                    today.minusDays(7), today.plusDays(1));

            assertThat(s.run().status()).as(s.text()).isEqualTo(ReconciliationRuns.COMPLETED);
            assertThat(s.read()).isEqualTo("CRM 3, billing 3, ERP partners 3");
            assertThat(s.run().matched()).as(s.text()).isEqualTo(2);
            assertThat(s.differences()).as(s.text()).containsOnly(Map.entry(Kind.MISSING_IN_ERP, 1L));
            assertThat(kit.runtime.store().reconciliationRuns().differences(s.runId(), null, 0, 10))
                    .singleElement().satisfies(d -> assertThat(d.key()).isEqualTo(nowhere));
        });
    }

    /** What a test does with a runtime (the customer sync on, no daily job) and the peers it reads. */
    private interface WithRuntime {
        void run(CustomerPeers peers, RuntimeKit kit) throws Exception;
    }

    private static void withRuntime(Databases.Backend backend, WithRuntime test) throws Exception {
        try (CustomerPeers peers = new CustomerPeers()) {
            Map<String, String> settings = new LinkedHashMap<>(peers.settings());
            settings.put("interchange.flows", "customer-sync");
            settings.put("interchange.reconciliation.daily", "false");
            try (RuntimeKit kit = RuntimeKit.start(backend, settings)) {
                test.run(peers, kit);
            }
        }
    }

    private static ReconciliationRuns.Difference only(List<ReconciliationRuns.Difference> all, Kind kind) {
        List<ReconciliationRuns.Difference> of = all.stream().filter(d -> d.kind() == kind).toList();
        assertThat(of).as(kind + " in " + all).hasSize(1);
        return of.get(0);
    }

    /** A customer of the entity in Salesforce, billing and S/4HANA, each record linked to one global id. */
    private static String customer(RuntimeKit kit, CustomerPeers peers, CrossReferences xref, String name, String email,
                                   boolean erp) {
        String globalId = xref.mint();
        String account = account(peers, name, ENTITY);
        xref.link(globalId, "salesforce", "00Dtestorg/company", account);
        String stripeId = "cus_" + globalId.replace("-", "").substring(0, 14);
        peers.stripe.putCustomer(stripeCustomer(stripeId, name.toUpperCase(), " " + email.toUpperCase()));
        xref.link(globalId, "billing", "", stripeId);
        if (erp) {
            String number = String.valueOf(2_000_000 + kit.s4.businessPartners().partners().size());
            kit.s4.businessPartners().putPartner(new S4BusinessPartnerReplication.Partner(number, "r-" + globalId,
                    "INTERCHANGE", "s-" + globalId, "2", name, email, "DE", Set.of(COMPANY), 1,
                    LocalDate.now(ZoneOffset.UTC)));
            xref.link(globalId, "erp-s4hana", "", number);
        }
        return globalId;
    }

    private static S4BusinessPartnerReplication.Partner partnerOf(RuntimeKit kit, String globalId) {
        return kit.s4.businessPartners().partners().stream().filter(p -> p.senderUuid().equals("s-" + globalId))
                .findFirst().orElseThrow();
    }

    private static String account(CustomerPeers peers, String name, String entity) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("Name", name);
        fields.put("BillingCountry", entity.substring(0, 2));
        fields.put("Legal_Entity__c", entity);
        return peers.salesforce.create("Account", fields);
    }

    private static ObjectNode stripeCustomer(String id, String name, String email) {
        ObjectNode c = JSON.createObjectNode().put("id", id).put("object", "customer")
                .put("created", Instant.now().getEpochSecond()).put("name", name).put("email", email);
        c.putObject("address").put("country", "DE");
        c.putObject("metadata").put("legal_entity", ENTITY);
        return c;
    }
}
