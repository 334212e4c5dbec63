package io.interchange.customer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.mapping.IdentityRules;
import io.interchange.mapping.IdentityRules.Decision;
import io.interchange.mapping.IdentityRules.Outcome;
import io.interchange.mapping.MappingSource;
import io.interchange.store.CrossReferences;
import io.interchange.store.Store;
import io.interchange.testkit.Databases;
import io.interchange.testkit.Databases.Backend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Identity matching: the fixtures beside {@code mappings/identity/match-rules.csv} (known records, an incoming record,
 * the expected decision) on both store backends, and the same person arriving from Salesforce and HubSpot.
 */
class CustomerIdentitiesTest {

    static final Path ROOT = Path.of("mappings");
    static final Path FIXTURES = ROOT.resolve("identity/match-rules.fixtures");
    static final ObjectMapper JSON = new ObjectMapper();
    static final IdentityRules RULES = IdentityRules.load(MappingSource.directory(ROOT));
    private static final CustomerStoreFixture STORES = new CustomerStoreFixture();

    @AfterAll
    static void closeStores() {
        STORES.close();
    }

    private static Store fresh(Backend backend) {
        return STORES.fresh(backend);
    }

    @TestFactory
    Stream<DynamicTest> everyFixtureDecidesAsExpected() throws IOException {
        List<Path> inputs;
        try (Stream<Path> s = Files.list(FIXTURES)) {
            inputs = s.filter(p -> p.getFileName().toString().endsWith(".input.json")).sorted().toList();
        }
        assertThat(inputs).as("fixtures in %s", FIXTURES).hasSizeGreaterThanOrEqualTo(10);
        List<DynamicTest> tests = new ArrayList<>();
        for (Backend backend : Backend.values()) {
            for (Path input : inputs) {
                tests.add(DynamicTest.dynamicTest(backend + " / " + input.getFileName(), () -> check(backend, input)));
            }
        }
        return tests.stream();
    }

    private void check(Backend backend, Path input) throws IOException {
        Store store = fresh(backend);
        JsonNode in = JSON.readTree(input.toFile());
        JsonNode expected = JSON.readTree(input.resolveSibling(input.getFileName().toString()
                .replace(".input.json", ".expected.json")).toFile());
        Map<String, String> idByLabel = new LinkedHashMap<>();
        for (JsonNode known : in.path("known")) {
            String g = idByLabel.computeIfAbsent(known.path("customer").asText(), l -> store.crossReferences().mint());
            IdentityRules.Record r = record(known);
            store.crossReferences().link(g, r.system(), r.scope(), r.externalId());
            store.identityIndex().index(g, r, RULES.keys(r));
        }
        Map<String, String> labelById = new HashMap<>();
        idByLabel.forEach((label, id) -> labelById.put(id, label));

        Decision d = RULES.decide(record(in.path("incoming")), store.identityIndex());

        assertThat(d.outcome().name()).as("outcome (%s)", d.reason()).isEqualTo(expected.path("outcome").asText());
        assertThat(d.globalId() == null ? null : labelById.get(d.globalId())).as("customer")
                .isEqualTo(expected.path("customer").isNull() ? null : expected.path("customer").asText());
        assertThat(d.rule()).as("rule").isEqualTo(expected.path("rule").isNull() ? null : expected.path("rule").asText());
        List<String> candidates = new ArrayList<>();
        expected.path("candidates").forEach(c -> candidates.add(c.asText()));
        assertThat(d.candidates().stream().map(labelById::get).toList()).as("candidates")
                .containsExactlyInAnyOrderElementsOf(candidates);
    }

    private static IdentityRules.Record record(JsonNode n) {
        Map<String, String> fields = new LinkedHashMap<>();
        n.path("fields").fields().forEachRemaining(e -> fields.put(e.getKey(), e.getValue().asText()));
        return new IdentityRules.Record(n.path("system").asText(), n.path("scope").asText(), n.path("externalId").asText(),
                fields);
    }

    // ------------------------------------------------------------------------------------------- identify

    @ParameterizedTest
    @EnumSource(Backend.class)
    void theSamePersonFromSalesforceAndHubSpotIsOneGlobalId(Backend backend) {
        Store store = fresh(backend);
        CustomerIdentities identities = new CustomerIdentities(RULES, store.crossReferences(), store.identityIndex());

        Decision fromSalesforce = identities.identify(new IdentityRules.Record("salesforce", "00D5g000004ABCD",
                "0035g00000AnnaAAA", Map.of("email", "Anna.Schmidt@Example.com", "taxId", "DE 123 456 789")));
        assertThat(fromSalesforce.outcome()).isEqualTo(Outcome.NEW);
        String anna = fromSalesforce.globalId();
        assertThat(store.crossReferences().exists(anna)).isTrue();

        Decision fromHubSpot = identities.identify(new IdentityRules.Record("hubspot", "portal-7", "51",
                Map.of("email", " anna.schmidt@EXAMPLE.com")));
        Decision fromBilling = identities.identify(new IdentityRules.Record("billing", "", "cus_Q1",
                Map.of("email", "billing@schmidt.example", "taxId", "de-123.456.789")));

        assertThat(fromHubSpot.outcome()).isEqualTo(Outcome.MATCHED);
        assertThat(fromHubSpot.globalId()).isEqualTo(anna);
        assertThat(fromHubSpot.rule()).isEqualTo("email");
        assertThat(fromBilling.globalId()).as("by the tax id").isEqualTo(anna);
        assertThat(fromBilling.rule()).isEqualTo("tax-id");
        assertThat(store.crossReferences().linksOf(anna)).extracting(CrossReferences.Link::system)
                .containsExactly("billing", "hubspot", "salesforce");
        // the record arriving again is its customer's, by its link
        Decision again = identities.identify(new IdentityRules.Record("hubspot", "portal-7", "51",
                Map.of("email", "anna.schmidt@example.com")));
        assertThat(again.globalId()).isEqualTo(anna);
        assertThat(again.rule()).isEqualTo("linked");
    }

    /**
     * One new person's records arrive from eight systems at the same moment, on two instances sharing the database:
     * one customer, every record linked to it.
     */
    @ParameterizedTest
    @EnumSource(Backend.class)
    void recordsOfOneNewPersonArrivingAtOnceOnTwoInstancesMakeOneCustomer(Backend backend) throws Exception {
        Store one = fresh(backend);
        try (Store two = Store.open(Databases.config(backend, Map.of(io.interchange.config.Settings.STORE_URL.key(),
                storeUrl(one))))) {
            List<String> systems = List.of("salesforce", "hubspot", "billing", "loyalty", "erp-s4hana", "erp-legacy",
                    "support", "partner");
            List<String> customers = new ArrayList<>();
            for (int round = 0; round < 5; round++) {
                String email = "Person" + round + "@Example.com";
                java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(systems.size());
                java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(systems.size());
                List<java.util.concurrent.Future<Decision>> futures = new ArrayList<>();
                try {
                    for (int i = 0; i < systems.size(); i++) {
                        Store store = i % 2 == 0 ? one : two;
                        CustomerIdentities identities = new CustomerIdentities(RULES, store.crossReferences(),
                                store.identityIndex());
                        IdentityRules.Record r = new IdentityRules.Record(systems.get(i), "", "rec-" + round,
                                Map.of("email", i % 2 == 0 ? email.toLowerCase() : email.toUpperCase()));
                        futures.add(pool.submit(() -> {
                            start.await();
                            return identities.identify(r);
                        }));
                    }
                    List<Decision> decisions = new ArrayList<>();
                    for (var f : futures) decisions.add(f.get(30, java.util.concurrent.TimeUnit.SECONDS));

                    assertThat(decisions).extracting(Decision::globalId).as("round %d", round).containsOnly(
                            decisions.get(0).globalId());
                    assertThat(decisions).filteredOn(d -> d.outcome() == Outcome.NEW).hasSize(1);
                    assertThat(one.crossReferences().linksOf(decisions.get(0).globalId())).hasSize(systems.size());
                    customers.add(decisions.get(0).globalId());
                } finally {
                    pool.shutdownNow();
                }
            }
            assertThat(count(one, "customer")).as("no customer minted in vain is left").isEqualTo(5);
            assertThat(column(one, "SELECT global_id FROM customer_identity_owner"))
                    .as("each person's e-mail key is owned by its customer, and by no customer minted in vain")
                    .containsExactlyInAnyOrderElementsOf(customers);
        }
    }

    private static String storeUrl(Store store) throws SQLException {
        try (Connection c = store.dataSource().getConnection()) {
            return c.getMetaData().getURL();
        }
    }

    /**
     * A key's owner is the single arbiter: a customer being created is found by its key before its record is indexed,
     * no other customer can take the key from it, and a record owns all its decisive keys or none.
     */
    @ParameterizedTest
    @EnumSource(Backend.class)
    void aKeyOnceOwnedNamesItsCustomerForGoodAndARecordOwnsAllItsKeysOrNone(Backend backend) {
        Store store = fresh(backend);
        CustomerIdentities identities = new CustomerIdentities(RULES, store.crossReferences(), store.identityIndex());
        List<IdentityRules.Key> email = RULES.keys(new IdentityRules.Record("x", "", "1", Map.of("email", "eva@example.com")));
        List<IdentityRules.Key> both = RULES.keys(new IdentityRules.Record("x", "", "2", Map.of("email", "eva@example.com",
                "taxId", "AT U12345678")));
        String eva = store.crossReferences().mint();
        String other = store.crossReferences().mint();

        assertThat(store.identityIndex().own(eva, email)).isTrue();
        assertThat(store.identityIndex().own(eva, email)).as("owning it again").isTrue();
        assertThat(store.identityIndex().own(other, both)).as("another customer").isFalse();

        assertThat(store.identityIndex().customersWithKey("email", email.get(0).hash())).containsExactly(eva);
        assertThat(store.identityIndex().customersWithKey("tax-id", both.get(1).hash())).as("all or none").isEmpty();
        store.crossReferences().forget(eva);
        assertThat(store.crossReferences().exists(eva)).as("a customer that owns a key is not forgotten").isTrue();
        Decision d = identities.identify(new IdentityRules.Record("hubspot", "", "7", Map.of("email", "EVA@example.com")));
        assertThat(d.outcome()).as("found by its owner before any record of it is indexed").isEqualTo(Outcome.MATCHED);
        assertThat(d.globalId()).isEqualTo(eva);
    }

    private static List<String> column(Store store, String sql) throws SQLException {
        try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement();
             var rs = s.executeQuery(sql)) {
            List<String> values = new ArrayList<>();
            while (rs.next()) values.add(rs.getString(1));
            return values;
        }
    }

    private static long count(Store store, String table) throws SQLException {
        try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement();
             var rs = s.executeQuery("SELECT COUNT(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void anAmbiguousRecordIsParkedWithBothCandidatesAndNothingLinked(Backend backend) {
        Store store = fresh(backend);
        CustomerIdentities identities = new CustomerIdentities(RULES, store.crossReferences(), store.identityIndex());
        String anna = identities.identify(new IdentityRules.Record("salesforce", "00D5g000004ABCD", "0035g00000AnnaAAA",
                Map.of("email", "anna.schmidt@example.com"))).globalId();
        String acme = identities.identify(new IdentityRules.Record("salesforce", "00D5g000004ABCD", "0015g00000AcmeAAA",
                Map.of("email", "accounts@acme.example", "taxId", "DE123456789"))).globalId();
        assertThat(anna).isNotEqualTo(acme);

        Decision d = identities.identify(new IdentityRules.Record("hubspot", "portal-7", "55",
                Map.of("email", "ANNA.SCHMIDT@example.com", "taxId", "DE 123456789")));

        assertThat(d.outcome()).isEqualTo(Outcome.AMBIGUOUS);
        assertThat(d.globalId()).isNull();
        assertThat(d.candidates()).containsExactlyInAnyOrder(anna, acme);
        assertThat(d.matches()).containsOnlyKeys("email", "tax-id");
        assertThat(d.reason()).contains("rules disagree").contains("email -> [" + anna + "]")
                .contains("tax-id -> [" + acme + "]");
        assertThat(store.crossReferences().resolve("hubspot", "portal-7", "55")).as("parked, not linked").isEmpty();
        assertThat(store.identityIndex().customersWithKey("email", RULES.keys(new IdentityRules.Record("x", "", "y",
                Map.of("email", "anna.schmidt@example.com"))).get(0).hash())).as("nor indexed").containsExactly(anna);
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void aRecordsChangedOrEmptiedFieldReplacesItsKey(Backend backend) {
        Store store = fresh(backend);
        CustomerIdentities identities = new CustomerIdentities(RULES, store.crossReferences(), store.identityIndex());
        String anna = identities.identify(new IdentityRules.Record("salesforce", "", "003A",
                Map.of("email", "anna@old.example", "phone", "+49 30 1234567"))).globalId();

        identities.identify(new IdentityRules.Record("salesforce", "", "003A", Map.of("email", "anna@new.example")));

        assertThat(RULES.decide(new IdentityRules.Record("hubspot", "p", "1", Map.of("email", "anna@old.example")),
                store.identityIndex()).outcome()).isEqualTo(Outcome.NEW);
        assertThat(RULES.decide(new IdentityRules.Record("hubspot", "p", "1", Map.of("email", "anna@new.example")),
                store.identityIndex()).globalId()).isEqualTo(anna);
        assertThat(RULES.decide(new IdentityRules.Record("hubspot", "p", "1", Map.of("phone", "+49 30 1234567")),
                store.identityIndex()).outcome()).as("the phone was emptied").isEqualTo(Outcome.NEW);
    }

    // ------------------------------------------------------------------------------------------- the rules file

    @Test
    void normalisationsAreThoseTheRulesFileDescribes() {
        IdentityRules.Record a = new IdentityRules.Record("s", "", "1", Map.of("email", "\uFF21nna@Example.COM ",
                "taxId", "fr 12-345.678/901", "phone", "+33 (1) 23 45 67 89"));
        IdentityRules.Record b = new IdentityRules.Record("s", "", "2", Map.of("email", "anna@example.com",
                "taxId", "FR12345678901", "phone", "+33123456789"));
        assertThat(RULES.keys(a)).isEqualTo(RULES.keys(b));
        assertThat(RULES.keys(a)).extracting(IdentityRules.Key::rule).containsExactly("email", "tax-id", "phone");
        assertThat(RULES.keys(a)).extracting(IdentityRules.Key::decisive).containsExactly(true, true, false);
        assertThat(RULES.keys(a).get(0).hash()).hasSize(64).doesNotContain("anna");
        assertThat(RULES.keys(new IdentityRules.Record("s", "", "3", Map.of("email", "anna@", "taxId", " -./ ",
                "phone", "12 34")))).as("nothing usable").isEmpty();
        assertThat(RULES.keys(new IdentityRules.Record("s", "", "4", Map.of("email", "a b@example.com")))).isEmpty();
    }

    @Test
    void aMalformedRulesFileIsRefusedNamingTheLine() {
        String header = "order,rule,field,normalisation,decisive\n";
        assertThatThrownBy(() -> IdentityRules.parse(header + "1,email,email,soundex,yes\n"))
                .hasMessageContaining("line 2").hasMessageContaining("normalisation 'soundex'");
        assertThatThrownBy(() -> IdentityRules.parse(header + "1,email,email,email,maybe\n"))
                .hasMessageContaining("decisive is yes or no");
        assertThatThrownBy(() -> IdentityRules.parse(header + "1,phone,phone,phone,no\n"))
                .hasMessageContaining("no decisive rule");
        assertThatThrownBy(() -> IdentityRules.parse(header + "1,email,email,email,yes\n2,email,mail,email,yes\n"))
                .hasMessageContaining("rule email twice");
    }
}
