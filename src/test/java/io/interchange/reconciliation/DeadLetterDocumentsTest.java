package io.interchange.reconciliation;

import io.interchange.store.DeadLetterStore.About;
import io.interchange.testkit.StripeFixtures;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a dead letter is about, as reconciliation keys billing's documents: a canonical event's object and document by
 * its type, a Stripe event parked at the edge by the object it carries, anything else nothing.
 */
class DeadLetterDocumentsTest {

    private final DeadLetterDocuments reader = new DeadLetterDocuments();

    @Test
    void aCanonicalEventIsAboutItsObjectAndTheDocumentItIsPostedAs() {
        assertThat(canonical("io.interchange.billing.invoice.finalized", "{\"invoiceId\":\"in_1\",\"number\":\"A-0001\"}"))
                .isEqualTo(new About("in_1", "INVOICE|A-0001"));
        assertThat(canonical("io.interchange.billing.payment.succeeded", "{\"paymentId\":\"pi_1\",\"invoiceId\":\"in_1\"}"))
                .isEqualTo(new About(null, "PAYMENT|pi_1"));
        assertThat(canonical("io.interchange.billing.refund.created", "{\"refundId\":\"re_1\",\"paymentId\":\"pi_1\"}"))
                .isEqualTo(new About("re_1", "REFUND|re_1"));
        assertThat(canonical("io.interchange.billing.credit-note.issued", "{\"creditNoteId\":\"cn_1\",\"number\":\"A-0001-CN-01\"}"))
                .isEqualTo(new About("cn_1", "CREDIT_NOTE|A-0001-CN-01"));
        // a document without its reference names its object only; a dispute is no billing document of reconciliation's
        assertThat(canonical("io.interchange.billing.invoice.finalized", "{\"invoiceId\":\"in_2\"}"))
                .isEqualTo(new About("in_2", null));
        assertThat(canonical("io.interchange.billing.dispute.opened", "{\"disputeId\":\"dp_1\"}")).isEqualTo(About.NOTHING);
    }

    @Test
    void aStripeEventParkedAtTheEdgeIsAboutItsObject() throws Exception {
        byte[] event = Files.readAllBytes(StripeFixtures.CORPUS.resolve("dahlia").resolve("invoice-finalized-basic.json"));
        String objectId = new com.fasterxml.jackson.databind.ObjectMapper().readTree(event).path("data").path("object")
                .path("id").asText();
        assertThat(objectId).startsWith("in_");
        assertThat(reader.read(Map.of("Content-Type", "application/json"), event)).isEqualTo(new About(objectId, null));
    }

    @Test
    void anythingElseIsAboutNothingNamedHere() {
        assertThat(reader.read(Map.of(), "not json".getBytes(StandardCharsets.UTF_8))).isEqualTo(About.NOTHING);
        assertThat(reader.read(Map.of(), "{\"truncated\":".getBytes(StandardCharsets.UTF_8))).isEqualTo(About.NOTHING);
        assertThat(reader.read(Map.of(), new byte[0])).isEqualTo(About.NOTHING);
        assertThat(reader.read(Map.of("ce_type", "io.interchange.customer.created"),
                "{\"globalId\":\"gc-1\"}".getBytes(StandardCharsets.UTF_8))).isEqualTo(About.NOTHING);
    }

    private About canonical(String type, String json) {
        return reader.read(Map.of("ce_type", type, "ce_id", "evt_1"), json.getBytes(StandardCharsets.UTF_8));
    }
}
