package io.interchange.reconciliation;

import org.junit.jupiter.api.Test;

import java.time.LocalDate;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The differences of one customer's records, as a customer reconciliation records them. */
class CustomerMasterTest {

    private static final List<String> SIDES = List.of("CRM", "BILLING", "ERP");
    private static final Set<String> ALL = Set.of("name", "email", "country");

    @Test
    void recordsAgreeingOnEverySideAfterNormalisationDifferInNothing() {
        List<CustomerMaster.Record> records = List.of(
                record("salesforce", "001A", "g1", "ACME  GmbH ", null, "de", Set.of("name", "country")),
                record("billing", "cus_1", "g1", "Acme GmbH", "Info@Acme.example", "DE", ALL),
                record("erp-s4hana", "1000001", "g1", "acme gmbh", "info@acme.example ", "DE", ALL));

        assertThat(CustomerMaster.compare("g1", records, SIDES)).isEmpty();
    }

    @Test
    void aNameTheErpKeepsClippedMatchesTheFullNameItBeginsAndNoOther() {
        String full = "Internationale Versicherungsgesellschaft Musterstadt GmbH & Co. KG";
        String clipped = full.substring(0, 40); // as business-partner.jslt writes it: "... Musterst"
        CustomerMaster.Record crm = record("salesforce", "001A", "g1", full, null, "DE", Set.of("name", "country"));
        CustomerMaster.Record billing = record("billing", "cus_1", "g1", full, "a@v.example", "DE", ALL);

        assertThat(CustomerMaster.compare("g1", List.of(crm, billing, clipped("1000001", clipped)), SIDES)).isEmpty();
        // without the mark, the same name is a difference: only a name as long as the ERP keeps may be clipped
        assertThat(CustomerMaster.compare("g1", List.of(crm, billing, record("erp-s4hana", "1000001", "g1", clipped,
                "a@v.example", "DE", ALL)), SIDES)).extracting(CustomerMaster.Found::field).containsExactly("name");
        // a clipped name that is not the beginning of the full one is a difference all the same
        String other = "Internationale Rueckversicherung Musterstadt AG Zweign";
        assertThat(CustomerMaster.compare("g1", List.of(crm, billing, clipped("1000001", other.substring(0, 40))),
                SIDES)).extracting(CustomerMaster.Found::field).containsExactly("name");

        assertThat(CustomerMaster.sameName(CustomerMaster.name("Acme Hold"), CustomerMaster.name("Acme Holdings"))).isTrue();
        assertThat(CustomerMaster.sameName(CustomerMaster.name("Acme Gold"), CustomerMaster.name("Acme Holdings"))).isFalse();
        assertThat(CustomerMaster.sameName(CustomerMaster.name("Ac Ho"), CustomerMaster.name("Acme Holdings"))).isFalse();
    }

    private static CustomerMaster.Record clipped(String number, String name) {
        java.util.Map<String, String> fields = new java.util.LinkedHashMap<>(
                CustomerMaster.normalised(name, "a@v.example", "DE", ALL));
        fields.put(CustomerMaster.NAME_CLIPPED, "true");
        return new CustomerMaster.Record("erp-s4hana", number, "g1", LocalDate.of(2026, 12, 1), fields);
    }

    @Test
    void aRecordLinkedToNoCustomerIsUnlinkedAndNothingElse() {
        CustomerMaster.Record r = record("billing", "cus_9", null, "X", "x@example.com", "FR", ALL);

        assertThat(r.key()).isEqualTo("UNLINKED|billing|cus_9");
        assertThat(CustomerMaster.compare(r.key(), List.of(r), SIDES)).singleElement()
                .satisfies(f -> {
                    assertThat(f.kind()).isEqualTo("UNLINKED");
                    assertThat(f.system()).isEqualTo("billing");
                    assertThat(f.records()).containsExactly(r);
                });
    }

    @Test
    void aMissingSideADuplicateAndAFieldThatDiffersAreEachNamed() {
        List<CustomerMaster.Record> records = List.of(
                record("salesforce", "001A", "g1", "Acme", null, "DE", Set.of("name", "country")),
                record("salesforce", "001B", "g1", "Acme", null, "DE", Set.of("name", "country")),
                record("billing", "cus_1", "g1", "Acme", "a@acme.example", "AT", ALL));

        List<CustomerMaster.Found> found = CustomerMaster.compare("g1", records, SIDES);

        assertThat(found).extracting(CustomerMaster.Found::kind)
                .containsExactly("DUPLICATE", "MISSING_IN_ERP", "DATA_DIFFERENCE");
        assertThat(found.get(0).system()).isEqualTo("salesforce");
        assertThat(found.get(0).detail()).contains("001A").contains("001B");
        CustomerMaster.Found data = found.get(2);
        assertThat(data.field()).isEqualTo("country");
        assertThat(data.reference()).isEqualTo("salesforce");
        assertThat(data.referenceValue()).isEqualTo("DE");
        assertThat(data.otherValue()).isEqualTo("AT");
        assertThat(data.system()).isEqualTo("billing");
    }

    @Test
    void withoutTheOwnersRecordTheCrmSideIsTheReferenceAndAFieldNoSystemKeepsIsNotCompared() {
        List<CustomerMaster.Record> records = List.of(
                record("billing", "cus_1", "g1", "Acme", "old@acme.example", "DE", ALL),
                record("erp-s4hana", "1000001", "g1", "Acme", "new@acme.example", "DE", ALL));

        List<CustomerMaster.Found> found = CustomerMaster.compare("g1", records, List.of("BILLING", "ERP"));

        assertThat(found).singleElement().satisfies(f -> {
            assertThat(f.kind()).isEqualTo("DATA_DIFFERENCE");
            assertThat(f.field()).isEqualTo("email");
            assertThat(f.reference()).isEqualTo("billing");
            assertThat(f.system()).isEqualTo("erp-s4hana");
        });
    }

    private static CustomerMaster.Record record(String system, String id, String globalId, String name, String email,
                                                String country, Set<String> kept) {
        return new CustomerMaster.Record(system, id, globalId, LocalDate.of(2026, 11, 1),
                CustomerMaster.normalised(name, email, country, kept));
    }
}
