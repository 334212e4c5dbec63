package io.interchange.testkit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Path;
import java.time.Instant;
import java.util.UUID;

/** Stripe events for tests, made from the mapping fixtures with a fresh event id, today's date and a chosen entity. */
public final class Events {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Events() {
    }

    public static ObjectNode invoicePaid(String legalEntity) {
        return from("stripe/payment.fixtures/paid.input.json", legalEntity);
    }

    public static ObjectNode invoiceFinalized(String legalEntity) {
        return from("stripe/invoice.fixtures/finalized.input.json", legalEntity);
    }

    public static ObjectNode chargeRefunded(String legalEntity) {
        return from("stripe/refund.fixtures/partial-refund.input.json", legalEntity);
    }

    public static ObjectNode from(String fixture, String legalEntity) {
        try {
            ObjectNode e = (ObjectNode) JSON.readTree(Path.of("mappings").resolve(fixture).toFile());
            e.put("id", "evt_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24));
            long now = Instant.now().getEpochSecond();
            e.put("created", now);
            ObjectNode obj = (ObjectNode) e.path("data").path("object");
            ((ObjectNode) obj.path("metadata")).put("legal_entity", legalEntity);
            if (obj.has("status_transitions")) {
                ObjectNode st = (ObjectNode) obj.path("status_transitions");
                if (st.hasNonNull("paid_at")) st.put("paid_at", now);
                if (st.hasNonNull("finalized_at")) st.put("finalized_at", now);
            }
            return e;
        } catch (Exception ex) {
            throw new IllegalStateException(ex);
        }
    }

    public static byte[] bytes(ObjectNode e) {
        try {
            return JSON.writeValueAsBytes(e);
        } catch (Exception ex) {
            throw new IllegalStateException(ex);
        }
    }
}
