package io.interchange.store;

import io.interchange.testkit.Databases.Backend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The billing references an invoice's and a payment's later events find their entity by: the first record of an object
 * stands, a record is found by every instance, and one not there yet is looked up again, never remembered as absent.
 */
class BillingReferencesTest {

    private static final StoreFixture FIXTURE = new StoreFixture();

    @AfterAll
    static void closeStores() {
        FIXTURE.close();
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void anObjectNotRecordedYetIsFoundOnceItIsAndItsFirstRecordStands(Backend backend) {
        BillingReferences references = FIXTURE.fresh(backend).billingReferences();
        String invoice = "in_" + UUID.randomUUID();
        assertThat(references.find(invoice)).isEmpty();

        references.recordAll(List.of(new BillingReferences.Reference(invoice, "DE01", "g-1", "cus_1", invoice, "A-1")));
        assertThat(references.find(invoice)).hasValueSatisfying(r -> {
            assertThat(r.legalEntity()).isEqualTo("DE01");
            assertThat(r.invoiceNumber()).isEqualTo("A-1");
        });

        // a later record of the same object changes nothing, in the store or in what is found
        references.recordAll(List.of(new BillingReferences.Reference(invoice, "US01", "g-2", "cus_2", invoice, "B-2")));
        assertThat(references.find(invoice)).hasValueSatisfying(r -> assertThat(r.legalEntity()).isEqualTo("DE01"));
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void whatAnotherInstanceRecordedIsFoundHere(Backend backend) {
        Store store = FIXTURE.fresh(backend);
        BillingReferences here = store.billingReferences();
        // another instance: its own references over the same database
        BillingReferences there = new BillingReferences(store.dataSource(), java.time.Clock.systemUTC());
        String charge = "ch_" + UUID.randomUUID();
        assertThat(here.find(charge)).isEmpty();
        there.recordAll(List.of(new BillingReferences.Reference(charge, "US01", "g-3", "cus_3", "in_3", "C-3")));
        assertThat(here.find(charge)).hasValueSatisfying(r -> assertThat(r.globalCustomerId()).isEqualTo("g-3"));
    }
}
