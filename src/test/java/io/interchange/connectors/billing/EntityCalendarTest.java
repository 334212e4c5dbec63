package io.interchange.connectors.billing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingSource;
import io.interchange.model.Invoice;
import io.interchange.store.Store;
import io.interchange.testkit.Databases;
import io.interchange.testkit.StripeFixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** A document is dated by its legal entity's calendar (legal-entities.csv time_zone), not by UTC's. */
class EntityCalendarTest {

    static final ObjectMapper JSON = new ObjectMapper();
    /** 2026-12-31 23:30 UTC: already 2027 in Berlin, still the afternoon of New Year's Eve in Los Angeles. */
    static final long NEW_YEARS_EVE_2330_UTC = 1_798_759_800L;
    static Store store;

    @BeforeAll
    static void open() {
        store = Store.open(Databases.config(Databases.Backend.H2));
    }

    @AfterAll
    static void close() {
        if (store != null) store.close();
    }

    @Test
    void anInvoiceFinalizedLateOnNewYearsEveBelongsToTheYearOfItsEntitysCalendar() throws Exception {
        MappingSource source = MappingSource.directory(Path.of("mappings"));
        BillingEventTranslator translator = new BillingEventTranslator(MappingEngine.load(source), source,
                store.billingReferences(), BillingEventTranslator.Livemode.ANY, "", null);
        assertThat(issuedOn(translator, "DE01", "evt_calendar_de01")).isEqualTo("2027-01-01");
        assertThat(issuedOn(translator, "US01", "evt_calendar_us01")).isEqualTo("2026-12-31");
        assertThat(issuedOn(translator, "ZZ99", "evt_calendar_zz99")).as("an entity not in the table: UTC").isEqualTo("2026-12-31");
    }

    private static String issuedOn(BillingEventTranslator translator, String entity, String eventId) throws Exception {
        ObjectNode event = (ObjectNode) JSON.readTree(StripeFixtures.CORPUS.resolve("2024-06-20/invoice-finalized-basic.json").toFile());
        event.put("id", eventId);
        ObjectNode invoice = (ObjectNode) event.path("data").path("object");
        invoice.put("id", "in_" + eventId);
        ((ObjectNode) invoice.path("metadata")).put("legal_entity", entity);
        ((ObjectNode) invoice.path("status_transitions")).put("finalized_at", NEW_YEARS_EVE_2330_UTC);
        invoice.put("effective_at", NEW_YEARS_EVE_2330_UTC);
        var t = translator.translate(translator.parse(JSON.writeValueAsBytes(event)), "calendar");
        return ((Invoice) t.canonical()).issuedOn();
    }
}
